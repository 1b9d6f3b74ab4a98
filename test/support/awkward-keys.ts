/** A 1,024-byte key in segments short enough for any file system (255 bytes a segment at most). */
export const longKey = (() => {
  const segments = Array.from({ length: 8 }, (_, i) => `${"é".repeat(60)}-${String(i).padStart(3, "0")}`);
  let key = segments.join("/");
  key += `/${"x".repeat(1024 - Buffer.byteLength(key) - 1)}`;
  return key;
})();

/** Object keys that have broken signed links in one signer version or another (see facts.md). */
export const AWKWARD_KEYS = [
  "reports/q1 2026.pdf",
  "a+b=c&d.pdf",
  "100%/done.txt",
  "literal%20not-a-space.txt",
  "what?.txt",
  "#hash/#tag.md",
  "quotes'()!*~.txt",
  "caf\u00e9.pdf", // NFC
  "cafe\u0301.pdf", // NFD: a different key from the one above
  "emoji/🎉 party 👩‍👩‍👧.png",
  "日本語/資料 (最終).xlsx",
  "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.txt",
  "semi;colon,comma@at$dollar.txt",
  "[brackets]{braces}|pipe<lt>gt.txt",
  '"double" `back` ^caret\\slash.txt',
  "  leading and trailing spaces  .txt",
  "-._~unreserved.txt",
  longKey,
];
