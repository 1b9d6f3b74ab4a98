/** What the domain needs from the outside world, named for the need rather than for any SDK. */

export interface SignedLink {
  readonly url: string;
  readonly key: string;
  readonly expiresAt: Date;
  readonly startsAt?: Date;
}

export interface LinkSigner {
  /** A link to the key that opens until `expiresAt` (rounded down to a whole second), and not before `startsAt`. */
  sign(key: string, validity: { expiresAt: Date; startsAt?: Date }): SignedLink;
}

export interface FileInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface FileCatalog {
  /** The object's facts, or undefined when there is no such object. */
  stat(key: string): Promise<FileInfo | undefined>;
}

export interface SearchResult {
  readonly files: readonly FileInfo[];
  /** True while the index is still being built: more matches may exist than it could see. */
  readonly partial: boolean;
}

export interface FileSearch {
  /**
   * Files whose key lies under one of `prefixes` (folder prefixes ending in `/`; `""` for the whole
   * bucket) and matches `query`, best first, at most `limit`. Never returns a key outside `prefixes`.
   */
  search(query: string, prefixes: readonly string[], limit: number): SearchResult;
}
