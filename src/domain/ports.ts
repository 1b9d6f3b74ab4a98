/** What the domain needs from the outside world, named for the need rather than for any SDK. */
import type { Person } from "./policy.js";
import type { Posted, ShareAccess, ShareMode, ShareRecord } from "./share.js";

export interface SignedLink {
  readonly url: string;
  readonly key: string;
  readonly expiresAt: Date;
  readonly startsAt?: Date;
}

export interface LinkValidity {
  readonly expiresAt: Date;
  readonly startsAt?: Date;
  /** The share the link belongs to: carried in the URL and covered by the signature, so it can be revoked. */
  readonly shareId?: string;
}

export interface LinkSigner {
  /** A link to the key that opens until `expiresAt` (rounded down to a whole second), and not before `startsAt`. */
  sign(key: string, validity: LinkValidity): SignedLink;
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

export interface FileSearchStatus {
  /** Files searchable now. */
  readonly files: number;
  /** A full listing has finished: answers are no longer partial. */
  readonly complete: boolean;
  /** When the last full listing finished. */
  readonly refreshedAt: Date | undefined;
}

export interface FileSearch {
  /**
   * Files whose key lies under one of `prefixes` (folder prefixes ending in `/`; `""` for the whole
   * bucket) and matches `query`, best first, at most `limit` (never more than 100). Never returns a key
   * outside `prefixes`; throws on a prefix that does not end in `/`. Matching ignores case and accents
   * and looks anywhere in the key; an exact file name ranks first, then a name that starts with the
   * query, then a name that contains it, then a path that does; the newer file wins a tie. An empty
   * query answers the most recent files.
   */
  search(query: string, prefixes: readonly string[], limit: number): SearchResult;
  /** A file turned out to be missing (a share found it gone): stop offering it; re-list soon if it was offered. */
  fileGone(key: string): void;
  status(): FileSearchStatus;
}

export interface Conversation {
  readonly id: string;
  /** Shared with another organisation (Slack Connect). */
  readonly isExternal: boolean;
  readonly isPrivate: boolean;
  /** A direct message with one person: links posted there reach only them. */
  readonly isDirect: boolean;
}

export interface Directory {
  /**
   * The person as the workspace knows them now: groups, membership of the channels the policy
   * names, guest status. `fresh` takes only answers from Slack younger than a minute: used where a
   * decision to share is made.
   */
  person(userId: string, options?: { fresh?: boolean }): Promise<Person>;
  /** The person as last looked up, while that answer is still fresh enough to reuse; no request is made. */
  known(userId: string): Person | undefined;
  /** Undefined when the conversation does not exist or the app cannot see it. */
  conversation(channelId: string): Promise<Conversation | undefined>;
  /** Whether the person is in the conversation (a fresh answer: a decision to post rests on it). */
  isMember(channelId: string, userId: string): Promise<boolean>;
}

export interface Announcement {
  readonly title: string;
  readonly message: string;
  readonly mention: "none" | "here" | "channel";
  readonly pin: boolean;
}

export interface SharedFile {
  readonly file: FileInfo;
  readonly link: SignedLink;
}

/** Everything a poster needs to show a share; rendering is the poster's business. */
export interface Share {
  readonly id: string;
  readonly sharerId: string;
  readonly files: readonly SharedFile[];
  readonly expiresAt: Date;
  readonly note: string | undefined;
  readonly mode: ShareMode;
  readonly announcement: Announcement | undefined;
  readonly channelId: string;
  /** Absent: "link", anyone holding the links can open them. */
  readonly access?: ShareAccess | undefined;
}

/** The stable links of members-only shares, on Handout's public address: they open only through the gate. */
export interface MemberLinks {
  /** The link to file `index` (0-based) of the share. */
  url(shareId: string, index: number): string;
}

/** Where a share began, when it began with a slash command: Slack lets the app answer there. */
export interface Origin {
  readonly channelId: string;
  readonly responseUrl: string;
}

export interface Poster {
  post(share: Share, origin: Origin | undefined): Promise<Posted>;
}

/**
 * What became of a share's message when its state changed: `edited`; `not_editable` (shown only to the
 * person, or posted through a response URL: Slack gives no way to edit it); `unknown` (the ledger never
 * learnt where it was posted: the process stopped in between, or the post failed).
 */
export type MessageEdit = "edited" | "not_editable" | "unknown";

/** Keeps a share's posted message true to the share's state. */
export interface ShareMessages {
  /** The links are gone from the message, which now says who revoked them. */
  revoked(share: ShareRecord, by: string): Promise<MessageEdit>;
  /** The message says its links expired, and offers the sharer to share again. */
  expired(share: ShareRecord): Promise<void>;
  /** The message points to the share that replaced it. */
  replaced(share: ShareRecord, replacement: Posted): Promise<void>;
  /** Tells an announcement's sharer, directly, that its links expire soon, and offers to extend them. */
  expiresSoon(share: ShareRecord): Promise<void>;
}

/**
 * Denies links of revoked shares at the edge (a CloudFront KeyValueStore read by a viewer-request
 * function), since CloudFront cannot revoke a single signed URL by itself.
 */
export interface RevocationList {
  /** Denies the share's links from now on; the entry is only needed until `expiresAt`, when they stop opening anyway. */
  add(id: string, expiresAt: Date): Promise<void>;
  /** Lets the share's links open again (a revoke undone); removing an absent id is harmless. */
  remove(id: string): Promise<void>;
  /** Forgets entries whose links have expired as of `now`, so the list stays small; returns how many were removed. */
  pruneExpired(now: Date): Promise<number>;
}
