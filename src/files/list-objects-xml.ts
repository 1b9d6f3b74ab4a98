/**
 * A lean reader for ListObjectsV2's XML answer. The SDK's generic deserializer builds a whole document
 * tree and then the typed output (a `Date` and several strings per object): for a million keys that
 * was most of the CPU a listing costs. This reads only what the index keeps, straight from the
 * answer's bytes, and skips every other element whole, known or not. Decoding the whole answer into
 * one string cost as much as reading it, and that string (a quarter of a megabyte a page) lived in
 * V8's large-object space until a major collection, kept alive by every key sliced from it; here each
 * key is decoded on its own, into a flat string that holds nothing else.
 */

export interface ListedEntry {
  /** The key itself: XML escapes decoded and, when the answer says `EncodingType` url, form-encoding too. */
  readonly key: string;
  readonly size: number;
  /** Milliseconds since the epoch; 0 when the store sent none or one that does not parse. */
  readonly lastModified: number;
}

export interface ListObjectsV2Page {
  readonly contents: ListedEntry[];
  /** Common prefixes, decoded as keys are. */
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

/** With encoding-type=url S3 form-encodes keys (a space is `+`, a `+` is `%2B`) so that any key survives XML. */
export const decodeFormEncoded = (text: string): string => {
  const spaced = text.includes("+") ? text.replaceAll("+", " ") : text;
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
};

class Malformed extends Error {
  constructor(detail: string) {
    super(`The store's ListObjectsV2 answer is not the XML it should be: ${detail}.`);
    this.name = "MalformedListing";
  }
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const AMP = 0x26;
const PLUS = 0x2b;
const PERCENT = 0x25;

/** Whether the element name at `at` (of `length` bytes) is `name` (ASCII), read in place: no string. */
function named(bytes: Uint8Array, at: number, length: number, name: string): boolean {
  if (length !== name.length) return false;
  for (let k = 0; k < length; k++) if (bytes[at + k] !== name.charCodeAt(k)) return false;
  return true;
}

const nameText = (bytes: Buffer, at: number, length: number) => bytes.toString("utf8", at, at + length);

/** Where the next `code` is at or after `from`, or -1. A loop, not `indexOf`: the runs are short. */
function next(bytes: Uint8Array, code: number, from: number): number {
  const n = bytes.length;
  for (let i = from; i < n; i++) if (bytes[i] === code) return i;
  return -1;
}

/**
 * Called for each child element: where its name starts and its length, and where its content starts.
 * For an element that holds only text (`end` ≥ 0) the content ends at `end`; for one that holds
 * elements (`end` = -1) the visitor reads them with `readChildren` and returns where its closing tag
 * starts, or returns undefined to have it skipped.
 */
type Visit = (at: number, length: number, start: number, end: number) => number | undefined;

const skip: Visit = () => undefined;

/**
 * Reads the child elements from `from` up to the closing tag of the element they are in, and returns
 * where that closing tag starts. Names are compared in place (`named`): a million keys' answers hold
 * several million elements, and a string for each name was a good part of a listing's cost. An answer
 * that ends before its elements do is refused.
 */
function readChildren(bytes: Buffer, from: number, visit: Visit): number {
  let at = from;
  for (;;) {
    const open = next(bytes, LT, at);
    if (open < 0) throw new Malformed("it ends before its elements are closed");
    const after = bytes[open + 1];
    if (after === SLASH) return open;
    const close = next(bytes, GT, open);
    if (close < 0) throw new Malformed("it ends in the middle of a tag");
    // A comment or processing instruction: not content.
    if (after === 0x21 || after === 0x3f) {
      if (after === 0x21 && bytes[open + 2] === 0x2d && bytes[open + 3] === 0x2d) {
        const end = bytes.indexOf("-->", open + 4);
        if (end < 0) throw new Malformed("a comment is not closed");
        at = end + 3;
      } else {
        at = close + 1;
      }
      continue;
    }
    let nameEnd = open + 1;
    for (; nameEnd < close; nameEnd++) {
      const code = bytes[nameEnd];
      if (code === 0x20 || code === SLASH || code === 0x09 || code === 0x0a || code === 0x0d) break;
    }
    const length = nameEnd - open - 1;
    if (bytes[close - 1] === SLASH) {
      visit(open + 1, length, close + 1, close + 1);
      at = close + 1;
      continue;
    }
    // Most elements hold only text: then the next tag is their own closing tag.
    const inner = next(bytes, LT, close + 1);
    if (inner < 0) throw new Malformed(`<${nameText(bytes, open + 1, length)}> is not closed`);
    let end = inner;
    if (bytes[inner + 1] === SLASH) visit(open + 1, length, close + 1, inner);
    else end = visit(open + 1, length, close + 1, -1) ?? readChildren(bytes, close + 1, skip);
    if (
      bytes[end + 1] !== SLASH ||
      bytes[end + 2 + length] !== GT ||
      !sameRun(bytes, open + 1, end + 2, length)
    ) {
      throw new Malformed(`<${nameText(bytes, open + 1, length)}> is not closed`);
    }
    at = end + length + 3;
  }
}

/** Whether the `length` bytes at `a` and at `b` are the same. */
function sameRun(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}

const digits = (bytes: Uint8Array, at: number, count: number): number => {
  let value = 0;
  for (let k = 0; k < count; k++) {
    const digit = (bytes[at + k] as number) - 0x30;
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
function parseTime(body: Buffer, start: number, end: number): number {
  if (
    end - start === 24 &&
    body[start + 4] === 0x2d &&
    body[start + 7] === 0x2d &&
    body[start + 10] === 0x54 &&
    body[start + 13] === 0x3a &&
    body[start + 16] === 0x3a &&
    body[start + 19] === 0x2e &&
    body[start + 23] === 0x5a
  ) {
    const year = digits(body, start, 4);
    const month = digits(body, start + 5, 2);
    const day = digits(body, start + 8, 2);
    const hour = digits(body, start + 11, 2);
    const minute = digits(body, start + 14, 2);
    const second = digits(body, start + 17, 2);
    const ms = digits(body, start + 20, 3);
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
  return Date.parse(body.toString("utf8", start, end)) || 0;
}

/** A size of up to 15 digits, read in place; anything else as `Number` reads its text. */
function parseSize(body: Buffer, start: number, end: number): number {
  const count = end - start;
  const value = count > 0 && count <= 15 ? digits(body, start, count) : -1;
  return value >= 0 ? value : Number(body.toString("utf8", start, end)) || 0;
}

/** Each byte's value as a hex digit, or -1. */
const HEX = new Int8Array(256).fill(-1);
for (let k = 0; k < 10; k++) HEX[0x30 + k] = k;
for (let k = 0; k < 6; k++) HEX[0x41 + k] = HEX[0x61 + k] = 10 + k;

/** Where a key's bytes are put together as it is decoded; kept, as a key is at most a few kilobytes. */
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * The text at [start, end) as a string of its own: XML escapes decoded, and form-encoding too when
 * `formEncoded`, in one pass over the bytes (about twice as fast as `decodeURIComponent` on the text,
 * and no string in between). Text with an XML escape, raw non-ASCII bytes beside form-escapes, or an
 * escape `decodeURIComponent` would refuse (not hex, or not well-formed UTF-8) is decoded as text
 * instead, by the same rules, so that every answer reads exactly as it always has: a bad escape
 * still throws.
 */
function decodeText(body: Buffer, start: number, end: number, formEncoded: boolean): string {
  if (scratch.length < end - start) scratch = Buffer.allocUnsafeSlow(2 * (end - start));
  const out = scratch;
  let length = 0;
  let raw = 0;
  let escaped = false;
  // The UTF-8 sequence the escapes are in: continuation bytes still due, and the range of the next one.
  let due = 0;
  let low = 0x80;
  let high = 0xbf;
  for (let i = start; i < end; i++) {
    const code = body[i] as number;
    if (formEncoded && code === PLUS) {
      if (due !== 0) return decodeAsText(body, start, end, formEncoded);
      out[length++] = 0x20;
      escaped = true;
    } else if (formEncoded && code === PERCENT) {
      const h = HEX[body[i + 1] as number] as number;
      const l = HEX[body[i + 2] as number] as number;
      if ((h | l) < 0 || i + 2 >= end) return decodeAsText(body, start, end, formEncoded);
      const byte = (h << 4) | l;
      if (due !== 0) {
        if (byte < low || byte > high) return decodeAsText(body, start, end, formEncoded);
        due--;
        low = 0x80;
        high = 0xbf;
      } else if (byte >= 0x80) {
        // Unicode's table of well-formed sequences: no overlong forms, no surrogates, none past U+10FFFF.
        if (byte >= 0xc2 && byte <= 0xdf) due = 1;
        else if (byte >= 0xe0 && byte <= 0xef) {
          due = 2;
          if (byte === 0xe0) low = 0xa0;
          else if (byte === 0xed) high = 0x9f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          due = 3;
          if (byte === 0xf0) low = 0x90;
          else if (byte === 0xf4) high = 0x8f;
        } else return decodeAsText(body, start, end, formEncoded);
      }
      out[length++] = byte;
      escaped = true;
      i += 2;
    } else {
      // An XML escape, or a character inside a form-escaped UTF-8 sequence: read as text.
      if (code === AMP || due !== 0) return decodeAsText(body, start, end, formEncoded);
      out[length++] = code;
      raw |= code;
    }
  }
  if (!escaped) return out.toString("utf8", 0, length);
  // decodeURIComponent leaves raw non-ASCII characters be and refuses a sequence cut short.
  if (raw & 0x80 || due !== 0) return decodeAsText(body, start, end, formEncoded);
  return out.toString("utf8", 0, length);
}

function decodeAsText(body: Buffer, start: number, end: number, formEncoded: boolean): string {
  const text = decodeXmlText(body.toString("utf8", start, end));
  return formEncoded ? decodeFormEncoded(text) : text;
}

const asBuffer = (body: Uint8Array | string): Buffer =>
  typeof body === "string"
    ? Buffer.from(body, "utf8")
    : Buffer.isBuffer(body)
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength);

/**
 * Reads the fields of a ListObjectsV2 answer that a listing needs, from its bytes (UTF-8), or from
 * its text. Throws on an answer that is not one, or that is cut off.
 */
export function parseListObjectsV2(answer: Uint8Array | string): ListObjectsV2Page {
  const body = asBuffer(answer);
  let rootAt = body.indexOf("<ListBucketResult");
  while (rootAt >= 0) {
    const after = body[rootAt + 17];
    if (after === GT || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d) break;
    rootAt = body.indexOf("<ListBucketResult", rootAt + 17);
  }
  if (rootAt < 0) throw new Malformed("there is no <ListBucketResult>");
  const rootOpenEnd = body.indexOf(GT, rootAt);
  if (rootOpenEnd < 0 || body[rootOpenEnd - 1] === SLASH) {
    throw new Malformed("<ListBucketResult> is not closed");
  }
  // Per Contents element read: where its key's text starts and ends (decoded once the encoding is
  // known, wherever the answer says it), its size and its time.
  const pending: number[] = [];
  const prefixes: number[] = [];
  let isTruncated = false;
  let tokenAt = -1;
  let tokenEnd = -1;
  let encodingType: string | undefined;
  let keyStart = -1;
  let keyEnd = -1;
  let size = 0;
  let lastModified = 0;
  const leafOnly = (at: number, length: number, end: number) => {
    if (end < 0) throw new Malformed(`<${nameText(body, at, length)}> holds elements, not text`);
  };
  const readField: Visit = (at, length, start, end) => {
    if (named(body, at, length, "Key")) {
      leafOnly(at, length, end);
      keyStart = start;
      keyEnd = end;
    } else if (named(body, at, length, "Size")) {
      leafOnly(at, length, end);
      size = parseSize(body, start, end);
    } else if (named(body, at, length, "LastModified")) {
      leafOnly(at, length, end);
      lastModified = parseTime(body, start, end);
    }
    return undefined;
  };
  const readPrefix: Visit = (at, length, start, end) => {
    if (named(body, at, length, "Prefix")) {
      leafOnly(at, length, end);
      prefixes.push(start, end);
    }
    return undefined;
  };
  const rootEnd = readChildren(body, rootOpenEnd + 1, (at, length, start, end) => {
    if (named(body, at, length, "Contents")) {
      if (end >= 0) return undefined;
      keyStart = -1;
      size = 0;
      lastModified = 0;
      const close = readChildren(body, start, readField);
      if (keyStart >= 0) pending.push(keyStart, keyEnd, size, lastModified);
      return close;
    }
    if (named(body, at, length, "CommonPrefixes")) {
      return end >= 0 ? undefined : readChildren(body, start, readPrefix);
    }
    if (end < 0) return undefined;
    if (named(body, at, length, "IsTruncated")) {
      isTruncated = body.toString("utf8", start, end).trim() === "true";
    } else if (named(body, at, length, "NextContinuationToken")) {
      tokenAt = start;
      tokenEnd = end;
    } else if (named(body, at, length, "EncodingType")) {
      encodingType = decodeText(body, start, end, false);
    }
    return undefined;
  });
  if (!named(body, rootEnd + 2, 16, "ListBucketResult") || body[rootEnd + 18] !== GT) {
    throw new Malformed("<ListBucketResult> is not closed");
  }
  // Stores that ignore encoding-type (s3rver, some gateways) answer raw keys and do not echo it.
  const formEncoded = encodingType === "url";
  const contents: ListedEntry[] = [];
  for (let i = 0; i < pending.length; i += 4) {
    contents.push({
      key: decodeText(body, pending[i] as number, pending[i + 1] as number, formEncoded),
      size: pending[i + 2] as number,
      lastModified: pending[i + 3] as number,
    });
  }
  const commonPrefixes: string[] = [];
  for (let i = 0; i < prefixes.length; i += 2) {
    commonPrefixes.push(decodeText(body, prefixes[i] as number, prefixes[i + 1] as number, formEncoded));
  }
  return {
    contents,
    commonPrefixes,
    isTruncated,
    // S3 never form-encodes the token: it is sent back as it came.
    nextContinuationToken: tokenAt < 0 ? undefined : decodeText(body, tokenAt, tokenEnd, false),
    encodingType,
  };
}
