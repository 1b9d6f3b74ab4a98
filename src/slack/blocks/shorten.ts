/** Cutting text to fit Slack's limits without losing what tells it apart. */

/** Slack's limit on an option's text, in characters. */
export const OPTION_TEXT_MAX = 75;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
// An extension worth keeping: short, after a dot that does not start the name, no spaces.
const EXTENSION = /(?<=[^/.])\.[^\s./]{1,10}$/;
const ELLIPSIS = "…";

/** Whole graphemes from the start of `parts` whose UTF-16 length fits `budget`. */
function fitStart(parts: readonly string[], budget: number): string {
  let out = "";
  for (const part of parts) {
    if (out.length + part.length > budget) break;
    out += part;
  }
  return out;
}

/** Whole graphemes from the end of `parts` whose UTF-16 length fits `budget`. */
function fitEnd(parts: readonly string[], budget: number): string {
  let out = "";
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as string;
    if (out.length + part.length > budget) break;
    out = part + out;
  }
  return out;
}

/**
 * `text` cut in the middle so that it fits in `max` characters, keeping its start, its end and its
 * extension: `Quarterly report for the board … final v3.pdf`. Whole graphemes only (an emoji or an
 * accented letter is never split); counts UTF-16 code units, so it also fits a limit in code points.
 */
export function shortenMiddle(text: string, max = OPTION_TEXT_MAX): string {
  if (text.length <= max) return text;
  if (max < 1) return "";
  const extension = EXTENSION.exec(text)?.[0] ?? "";
  const keep = extension.length <= max / 3 ? extension : "";
  const stem = text.slice(0, text.length - keep.length);
  const budget = max - ELLIPSIS.length - keep.length;
  const parts = Array.from(graphemes.segment(stem), (s) => s.segment);
  // More of the start than of the end: names usually differ by their start, and the end is a version.
  const head = fitStart(parts, Math.ceil(budget * 0.6)).trimEnd();
  const tail = fitEnd(parts, budget - head.length).trimStart();
  return `${head}${ELLIPSIS}${tail}${keep}`;
}
