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

/**
 * Calls `visit(name, start, end)` for each child element of the element whose content spans
 * [from, to): the element's name and where its content starts and ends (equal for `<Name/>`).
 * Returns nothing; nested elements are skipped whole, as a child's content.
 */
function children(
  xml: string,
  from: number,
  to: number,
  visit: (name: string, start: number, end: number) => void,
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
    const name = xml.slice(open + 1, nameEnd);
    if (xml.charCodeAt(close - 1) === 0x2f) {
      visit(name, close + 1, close + 1);
      at = close + 1;
      continue;
    }
    const end = xml.indexOf(`</${name}>`, close + 1);
    if (end < 0 || end >= to) throw new Malformed(`<${name}> is not closed`);
    visit(name, close + 1, end);
    at = end + name.length + 3;
  }
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
  children(xml, rootOpenEnd + 1, rootEnd, (name, start, end) => {
    if (name === "Contents") {
      let key: string | undefined;
      let size = 0;
      let lastModified = 0;
      children(xml, start, end, (field, from, to) => {
        if (field === "Key") key = text(from, to);
        else if (field === "Size") size = Number(xml.slice(from, to)) || 0;
        else if (field === "LastModified") lastModified = Date.parse(xml.slice(from, to)) || 0;
      });
      if (key !== undefined) contents.push({ key, size, lastModified });
    } else if (name === "CommonPrefixes") {
      children(xml, start, end, (field, from, to) => {
        if (field === "Prefix") commonPrefixes.push(text(from, to));
      });
    } else if (name === "IsTruncated") {
      isTruncated = xml.slice(start, end).trim() === "true";
    } else if (name === "NextContinuationToken") {
      nextContinuationToken = text(start, end);
    } else if (name === "EncodingType") {
      encodingType = text(start, end);
    }
  });
  return { contents, commonPrefixes, isTruncated, nextContinuationToken, encodingType };
}
