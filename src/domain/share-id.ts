/** Share ids: made unguessable here, checked where they arrive from outside. */

/**
 * 16 random bytes, base64url: unguessable, and safe in a URL query string and a KeyValueStore key. Web
 * Crypto and btoa are globals wherever Handout runs, so the domain imports nothing for them.
 */
export const newShareId = (): string =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

/** Checks a share id that arrived from outside (a button value, a command argument). */
export const isShareId = (value: unknown): value is string =>
  typeof value === "string" && SHARE_ID.test(value);
