/**
 * A lean reader for ListObjectsV2's XML answer. The SDK's generic deserializer builds a whole document
 * tree and then the typed output (a `Date` and several strings per object): for a million keys that
 * was most of the CPU a listing costs. This reads only what the index keeps, with `indexOf` over the
 * text, and skips every other element whole, known or not.
 */

export interface ListedEntry {
  /** As the store sent it: still form-encoded when `encodingType` is `url`. */
  readonly key: string;
  readonly size: number;
  /** Milliseconds since the epoch; 0 when the store sent none or one that does not parse. */
  readonly lastModified: number;
}

export interface ListObjectsV2Page {
  readonly contents: ListedEntry[];
  /** Common prefixes, as the store sent them. */
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken: string | undefined;
  readonly encodingType: string | undefined;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML's escapes in text: the five named entities and numeric character references. */
export function decodeXmlText(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

class Malformed extends Error {
  constructor(detail: string) {
    super(`The store's ListObjectsV2 answer is not the XML it should be: ${detail}.`);
    this.name = "MalformedListing";
  }
}

/** Whether the element name at `at` (of `length` characters) is `name`, read in place: no slice. */
const named = (xml: string, at: number, length: number, name: string): boolean =>
  length === name.length && xml.startsWith(name, at);

/** Whether the `length` characters at `a` and at `b` are the same. */
function sameRun(xml: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (xml.charCodeAt(a + k) !== xml.charCodeAt(b + k)) return false;
  return true;
}

/**
 * Calls `visit(at, length, start, end)` for each child element of the element whose content spans
 * [from, to): where the element's name starts and its length, and where its content starts and ends
 * (equal for `<Name/>`). Nested elements are skipped whole, as a child's content. Names are compared
 * in place (`named`): a million keys' answers hold several million elements, and a string for each
 * name was a good part of a listing's cost.
 */
function children(
  xml: string,
  from: number,
  to: number,
  visit: (at: number, length: number, start: number, end: number) => void,
): void {
  let at = from;
  for (;;) {
    const open = xml.indexOf("<", at);
    if (open < 0 || open >= to) return;
    const close = xml.indexOf(">", open);
    if (close < 0 || close >= to) throw new Malformed("a tag is not closed");
    const next = xml.charCodeAt(open + 1);
    // A comment or processing instruction: not content.
    if (next === 0x21 || next === 0x3f) {
      at = next === 0x21 && xml.startsWith("<!--", open) ? xml.indexOf("-->", open) + 3 : close + 1;
      if (at < 3) throw new Malformed("a comment is not closed");
      continue;
    }
    if (next === 0x2f) throw new Malformed(`an unexpected closing tag at ${open}`);
    let nameEnd = open + 1;
    for (; nameEnd < close; nameEnd++) {
      const code = xml.charCodeAt(nameEnd);
      if (code === 0x20 || code === 0x2f || code === 0x09 || code === 0x0a || code === 0x0d) break;
    }
    const length = nameEnd - open - 1;
    if (xml.charCodeAt(close - 1) === 0x2f) {
      visit(open + 1, length, close + 1, close + 1);
      at = close + 1;
      continue;
    }
    // Most elements hold only text: then the next tag is their own closing tag.
    let end = xml.indexOf("<", close + 1);
    const leaf =
      end >= 0 &&
      xml.charCodeAt(end + 1) === 0x2f &&
      xml.charCodeAt(end + 2 + length) === 0x3e &&
      sameRun(xml, open + 1, end + 2, length);
    if (!leaf) end = xml.indexOf(`</${xml.slice(open + 1, nameEnd)}>`, close + 1);
    if (end < 0 || end >= to) throw new Malformed(`<${xml.slice(open + 1, nameEnd)}> is not closed`);
    visit(open + 1, length, close + 1, end);
    at = end + length + 3;
  }
}

const digits = (xml: string, at: number, count: number): number => {
  let value = 0;
  for (let k = 0; k < count; k++) {
    const digit = xml.charCodeAt(at + k) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
};

/**
 * S3's `2024-05-01T12:34:56.000Z`, read without `Date.parse` (a good part of a listing's cost). Only
 * fields that are valid in every month are read here; anything else goes to `Date.parse`, which
 * decides as it always has.
 */
function parseTime(xml: string, start: number, end: number): number {
  if (
    end - start === 24 &&
    xml.charCodeAt(start + 4) === 0x2d &&
    xml.charCodeAt(start + 7) === 0x2d &&
    xml.charCodeAt(start + 10) === 0x54 &&
    xml.charCodeAt(start + 13) === 0x3a &&
    xml.charCodeAt(start + 16) === 0x3a &&
    xml.charCodeAt(start + 19) === 0x2e &&
    xml.charCodeAt(start + 23) === 0x5a
  ) {
    const year = digits(xml, start, 4);
    const month = digits(xml, start + 5, 2);
    const day = digits(xml, start + 8, 2);
    const hour = digits(xml, start + 11, 2);
    const minute = digits(xml, start + 14, 2);
    const second = digits(xml, start + 17, 2);
    const ms = digits(xml, start + 20, 3);
    if (
      year >= 1970 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
  }
  return Date.parse(xml.slice(start, end)) || 0;
}

/** Reads the fields of a ListObjectsV2 answer that a listing needs. Throws on text that is not one. */
export function parseListObjectsV2(xml: string): ListObjectsV2Page {
  const rootAt = xml.indexOf("<ListBucketResult");
  if (rootAt < 0) throw new Malformed("there is no <ListBucketResult>");
  const rootOpenEnd = xml.indexOf(">", rootAt);
  const rootEnd = xml.lastIndexOf("</ListBucketResult>");
  if (rootOpenEnd < 0 || rootEnd < rootOpenEnd) throw new Malformed("<ListBucketResult> is not closed");
  const contents: ListedEntry[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let nextContinuationToken: string | undefined;
  let encodingType: string | undefined;
  const text = (start: number, end: number) => decodeXmlText(xml.slice(start, end));
  let key: string | undefined;
  let size = 0;
  let lastModified = 0;
  const readField = (at: number, length: number, from: number, to: number) => {
    if (named(xml, at, length, "Key")) key = text(from, to);
    else if (named(xml, at, length, "Size")) size = Number(xml.slice(from, to)) || 0;
    else if (named(xml, at, length, "LastModified")) lastModified = parseTime(xml, from, to);
  };
  const readPrefix = (at: number, length: number, from: number, to: number) => {
    if (named(xml, at, length, "Prefix")) commonPrefixes.push(text(from, to));
  };
  children(xml, rootOpenEnd + 1, rootEnd, (at, length, start, end) => {
    if (named(xml, at, length, "Contents")) {
      key = undefined;
      size = 0;
      lastModified = 0;
      children(xml, start, end, readField);
      if (key !== undefined) contents.push({ key, size, lastModified });
    } else if (named(xml, at, length, "CommonPrefixes")) {
      children(xml, start, end, readPrefix);
    } else if (named(xml, at, length, "IsTruncated")) {
      isTruncated = xml.slice(start, end).trim() === "true";
    } else if (named(xml, at, length, "NextContinuationToken")) {
      nextContinuationToken = text(start, end);
    } else if (named(xml, at, length, "EncodingType")) {
      encodingType = text(start, end);
    }
  });
  return { contents, commonPrefixes, isTruncated, nextContinuationToken, encodingType };
}
