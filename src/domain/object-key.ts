import { HandoutError } from "./errors.js";

/** S3's own limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

// C0 controls, DEL and C1 controls: invisible in Slack, and mangled or refused by browsers and proxies.
const CONTROL = /\p{Cc}/u;

// In Unicode mode only unpaired surrogates match: S3 keys are UTF-8, which cannot hold them.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a key cannot be served reliably over a URL, or undefined when it can.
 * Browsers and CDNs normalise `.`/`..` segments and collapse or strip empty ones, so such a key would
 * be requested under another name than the one signed.
 */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "the key is empty";
  if (LONE_SURROGATE.test(key)) return "the key is not valid Unicode (it contains an unpaired surrogate)";
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `the key is longer than ${MAX_KEY_BYTES} bytes`;
  if (CONTROL.test(key)) return "the key contains a control character (such as a tab or a line break)";
  if (key.startsWith("/")) return "the key starts with '/'";
  if (key.endsWith("/")) return "the key ends with '/' (it names a folder, not a file)";
  for (const segment of key.split("/")) {
    if (segment === "") return "the key contains an empty path segment ('//')";
    if (segment === "." || segment === "..") return `the key contains a '${segment}' path segment`;
  }
  return undefined;
}

export function assertServableKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) {
    throw new HandoutError("KEY_INVALID", `Cannot share ${JSON.stringify(key)}: ${problem}.`);
  }
}

/** RFC 3986: everything but unreserved characters is percent-encoded, `encodeURIComponent` leaves `!'()*`. */
const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The URL path for a key: each segment percent-encoded as RFC 3986 requires, `/` kept. */
export function encodeKeyPath(key: string): string {
  assertServableKey(key);
  return key.split("/").map(encodeSegment).join("/");
}

/** The key a URL path names; the inverse of `encodeKeyPath`. */
export function decodeKeyPath(path: string): string {
  return path.split("/").map(decodeURIComponent).join("/");
}
