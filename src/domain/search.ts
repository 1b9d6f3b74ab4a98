/** Matching and ranking for file search: pure, shared by the index and by its tests and bench. */

/** The most results a search returns: Slack shows at most 100 options. */
export const MAX_RESULTS = 100;

/** How well a key matches a query; lower is better. */
export const MatchTier = {
  exactName: 0,
  namePrefix: 1,
  inName: 2,
  inPath: 3,
} as const;
export type MatchTier = (typeof MatchTier)[keyof typeof MatchTier];

// Printable ASCII only needs lower-casing (the common case, and the fast one).
const ASCII = /^[ -~]*$/;
const MARKS = /\p{M}/gu;
// Letters that carry no combining mark in Unicode but that people type without the stroke or ligature.
const FOLDS: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ø: "o",
  ł: "l",
  đ: "d",
  ð: "d",
  þ: "th",
  ı: "i",
  ς: "σ",
};
const FOLDABLE = new RegExp(`[${Object.keys(FOLDS).join("")}]`, "g");

/**
 * Text as search compares it: lower case, accents and other combining marks removed, so that
 * "Réunion", "REUNION" and "reunion" meet. Idempotent. Never adds or removes a `/`.
 */
export function normalizeForSearch(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return (
    text
      .toLowerCase()
      .normalize("NFD")
      .replace(MARKS, "")
      .replace(FOLDABLE, (letter) => FOLDS[letter] ?? letter)
      // Recomposes what NFD split without a mark to drop, such as Hangul syllables.
      .normalize("NFC")
  );
}

/**
 * How a normalised key matches a normalised, non-empty query, or undefined when it does not.
 * The file name is the part after the last `/`; the path is the whole key.
 */
export function matchTier(normalizedKey: string, query: string): MatchTier | undefined {
  const nameStart = normalizedKey.lastIndexOf("/") + 1;
  const at = normalizedKey.indexOf(query, nameStart);
  if (at === nameStart) {
    return normalizedKey.length - nameStart === query.length ? MatchTier.exactName : MatchTier.namePrefix;
  }
  if (at > nameStart) return MatchTier.inName;
  return normalizedKey.includes(query) ? MatchTier.inPath : undefined;
}

export interface Ranked {
  readonly key: string;
  readonly tier: MatchTier;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
}

/** Better tier first, then the newer file, then key order so that answers are stable. */
export function compareRanked(a: Ranked, b: Ranked): number {
  if (a.tier !== b.tier) return a.tier - b.tier;
  if (a.lastModified !== b.lastModified) return b.lastModified - a.lastModified;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Whether `prefix` is a folder prefix a grant can name: `""` (the whole bucket) or text ending in `/`. */
export const isFolderPrefix = (prefix: string): boolean => prefix === "" || prefix.endsWith("/");

/**
 * Throws on a prefix that is not a folder prefix: `reports` would also match `reports-secret/`, so a
 * search must never be asked for it.
 */
export function assertFolderPrefixes(prefixes: readonly string[]): void {
  for (const prefix of prefixes) {
    if (!isFolderPrefix(prefix)) {
      throw new TypeError(
        `Search prefix ${JSON.stringify(prefix)} does not end in "/": pass folder prefixes such as "reports/", or "" for the whole bucket.`,
      );
    }
  }
}

/** The fewest prefixes that cover the same keys, sorted: `a/` makes `a/b/` redundant, `""` makes all. */
export function coveringPrefixes(prefixes: readonly string[]): string[] {
  assertFolderPrefixes(prefixes);
  const unique = [...new Set(prefixes)].sort();
  return unique.filter((prefix) => !unique.some((other) => other !== prefix && prefix.startsWith(other)));
}

export const underAnyPrefix = (key: string, prefixes: readonly string[]): boolean =>
  prefixes.some((prefix) => key.startsWith(prefix));

export interface Listed {
  readonly key: string;
  readonly lastModified: number;
}

/**
 * The plain way to search: test every key. The index must answer exactly as this does; tests and the
 * bench hold it to that. `normalizedKeys[i]` is `normalizeForSearch(files[i].key)`.
 */
export function searchByScan<T extends Listed>(
  files: readonly T[],
  normalizedKeys: readonly string[],
  query: string,
  prefixes: readonly string[],
  limit: number,
): T[] {
  assertFolderPrefixes(prefixes);
  const q = normalizeForSearch(query.trim());
  const hits: (Ranked & { file: T })[] = [];
  files.forEach((file, i) => {
    if (!underAnyPrefix(file.key, prefixes)) return;
    const tier = q === "" ? MatchTier.exactName : matchTier(normalizedKeys[i] as string, q);
    if (tier !== undefined) hits.push({ key: file.key, tier, lastModified: file.lastModified, file });
  });
  return hits
    .sort(compareRanked)
    .slice(0, clampLimit(limit))
    .map((hit) => hit.file);
}

export const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.max(0, Math.min(MAX_RESULTS, Math.floor(limit))) : MAX_RESULTS;
