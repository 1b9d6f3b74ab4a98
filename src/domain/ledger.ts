/** The record of every share: what was shared, by whom, where, until when, and what became of it. */
import { HandoutError } from "./errors.js";

/**
 * - `pending`: recorded, its link about to be posted (or the process stopped in between: the link may
 *   be out there, so a pending share counts as live).
 * - `active`: posted. - `failed`: the post failed. - `revoked`: someone revoked it.
 * - `expired`: its link no longer opens and the scheduler has noted so.
 */
export type ShareState = "pending" | "active" | "revoked" | "expired" | "failed";

export const SHARE_STATES: readonly ShareState[] = ["pending", "active", "revoked", "expired", "failed"];

/** States whose link may be out there and still open: the expiry scheduler's work. */
export const LIVE_STATES: readonly ShareState[] = ["pending", "active"];

/**
 * States a revoke applies to. A failed post is included: a timeout can hide a message that Slack did
 * accept, and revoking a link that never reached anyone costs nothing.
 */
export const REVOCABLE_STATES: readonly ShareState[] = ["pending", "active", "failed"];

/** A share still pending after this long never finished posting: the process stopped in between. */
const STUCK_AFTER_MS = 10 * 60_000;

/** Pending for so long that its post never finished: its link may be out there, or may not. */
export const isStuckPending = (share: ShareRecord, now: Date): boolean =>
  share.state === "pending" && now.getTime() - share.createdAt.getTime() > STUCK_AFTER_MS;

/** States a share can be extended (replaced) from. */
export const REPLACEABLE_STATES: readonly ShareState[] = ["pending", "active", "expired"];

/** Where the link was posted: what the poster answered. */
export type ShareMode = "post" | "ephemeral" | "announce";

export interface Posted {
  readonly channelId: string;
  /** The message's timestamp; absent for ephemeral messages and replies through a response URL. */
  readonly ts: string | undefined;
  readonly via: "message" | "response_url" | "ephemeral" | "direct_message";
  readonly pinned: boolean;
  /** The timestamps of the messages after the first, when the links needed several (Slack's size limits). */
  readonly followUps?: readonly string[] | undefined;
}

export type ShareMessage = Posted;

/**
 * Who can open a share's links: `link`, anyone holding the signed URL; `members`, only people Slack
 * says are in the share's conversation, through the gate's stable links.
 */
export type ShareAccess = "link" | "members";

/** A share as recorded before its link is posted. */
export interface NewShare {
  readonly id: string;
  readonly sharerId: string;
  readonly keys: readonly string[];
  /** The destination conversation (for an ephemeral share, where it was shown). */
  readonly channelId: string;
  readonly mode: ShareMode;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly note?: string | undefined;
  /** An announcement's title. */
  readonly title?: string | undefined;
  /** An announcement's message, so that extending it announces again. */
  readonly announcementText?: string | undefined;
  /** The share this one extends. */
  readonly replaces?: string | undefined;
  /** Who can open its links; a record written before members-only links existed reads as `link`. */
  readonly access?: ShareAccess | undefined;
  /** The sharer asked to be told when someone opens a members-only link. */
  readonly notifyOpens?: boolean | undefined;
}

/** One person opening one file of a members-only share through the gate. */
export interface ShareOpen {
  readonly shareId: string;
  /** Which of the share's files (0-based, as in `keys`). */
  readonly fileIndex: number;
  readonly key: string;
  readonly userId: string;
  readonly at: Date;
  readonly userAgent: string;
}

export interface ShareRecord extends NewShare {
  readonly access: ShareAccess;
  readonly notifyOpens: boolean;
  readonly state: ShareState;
  readonly message?: ShareMessage | undefined;
  /** Why the post failed. */
  readonly failure?: string | undefined;
  readonly revokedBy?: string | undefined;
  readonly revokedAt?: Date | undefined;
  /** The share that extended this one. */
  readonly replacedBy?: string | undefined;
  /** The "about to expire" notice has been claimed (see `markExpiryNotified`). */
  readonly expiryNotified: boolean;
}

/**
 * The outcome of a conditional change. `changed` says whether it took effect; `share` is the record as
 * it stands afterwards, which explains a refusal (already revoked, by whom, …), or undefined when there
 * is no such share.
 */
export type Transition =
  | { readonly changed: true; readonly share: ShareRecord }
  | { readonly changed: false; readonly share: ShareRecord | undefined };

export interface ShareQuery {
  readonly sharerId?: string | undefined;
  /** Any of these states; all states when absent. */
  readonly states?: readonly ShareState[] | undefined;
  /** Created at or after. */
  readonly since?: Date | undefined;
  /** Created strictly before: pass the oldest `createdAt` of one page to fetch the next. */
  readonly until?: Date | undefined;
  /** At most this many (default `DEFAULT_LIST_LIMIT`). */
  readonly limit?: number | undefined;
}

export const DEFAULT_LIST_LIMIT = 100;

/**
 * Every state change is conditional and atomic in the store, so several replicas (or the CLI beside the
 * app) can act on the same share: one wins, the others see `changed: false`.
 */
export interface ShareLedger {
  /** Records a share as `pending`, before its link is posted; repeating the same record is harmless, another share with a taken id throws. */
  record(share: NewShare): Promise<ShareRecord>;
  /** Stores where the link was posted; a `pending` or `failed` share becomes `active`, any other keeps its state (a share revoked meanwhile stays revoked). */
  posted(id: string, message: ShareMessage): Promise<Transition>;
  /** The post failed: a `pending` share becomes `failed`, with the reason. */
  failed(id: string, reason: string): Promise<Transition>;
  /** The share, or undefined when there is none with that id. */
  get(id: string): Promise<ShareRecord | undefined>;
  /** Revokes a share in a `REVOCABLE_STATES` state; refused (unchanged) for one already revoked or expired. */
  revoke(id: string, by: string, at: Date): Promise<Transition>;
  /** A `pending` or `active` share becomes `expired`; doubles as the claim to post its "link expired" update. */
  markExpired(id: string): Promise<Transition>;
  /** Notes the share that extended this one; refused when it is revoked or failed, or already extended by another share. */
  markReplaced(id: string, newId: string): Promise<Transition>;
  /** Takes back `markReplaced(id, newId)` when that extension could not be made; refused unless `newId` holds it. */
  unmarkReplaced(id: string, newId: string): Promise<Transition>;
  /**
   * Active announcements, not extended, whose links expire by `before` and whose notice is unclaimed,
   * soonest first (at most `limit`, default `DEFAULT_LIST_LIMIT`).
   */
  dueForReminder(before: Date, limit?: number): Promise<ShareRecord[]>;
  /** Claims an `active` share's "about to expire" notice: changes only once, so one replica sends it. */
  markExpiryNotified(id: string): Promise<Transition>;
  /** Shares matching the query, newest first (ties: greater id first). */
  list(query?: ShareQuery): Promise<ShareRecord[]>;
  /** `pending` and `active` shares whose `expiresAt` is at or before `before`, soonest first: the scheduler's work after a restart. */
  dueForExpiry(before: Date, limit?: number): Promise<ShareRecord[]>;
  /** Notes that someone opened a file of a share; throws `unknownShare` for a share never recorded. */
  recordOpen(open: ShareOpen): Promise<void>;
  /** The share's opens, oldest first. */
  listOpens(shareId: string): Promise<ShareOpen[]>;
  /**
   * The opens not yet told to the sharer with `at` at or before `upTo`, oldest first, marked told in
   * the same step: of several replicas asking at once, each open goes to one.
   */
  claimOpensToNotify(shareId: string, upTo: Date): Promise<ShareOpen[]>;
  /** Releases the store; the ledger is unusable afterwards. */
  close(): Promise<void>;
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

/** What a person is told when a share id names no share that Handout recorded. */
export const unknownShare = (): HandoutError =>
  new HandoutError("INPUT_INVALID", "Handout has no record of that share.");

/** What `record` throws for a different share under a taken id: a bug, never a person's mistake. */
export const shareIdTaken = (id: string): HandoutError =>
  new HandoutError("INPUT_INVALID", `Another share is already recorded with the id ${id}.`);

/** True when `record` is the same share as `share` (a repeated `record` call, not an id collision). */
export const isSameShare = (record: NewShare, share: NewShare): boolean =>
  record.id === share.id &&
  record.sharerId === share.sharerId &&
  record.channelId === share.channelId &&
  record.mode === share.mode &&
  (record.access ?? "link") === (share.access ?? "link") &&
  record.createdAt.getTime() === share.createdAt.getTime() &&
  record.expiresAt.getTime() === share.expiresAt.getTime() &&
  record.keys.length === share.keys.length &&
  record.keys.every((key, i) => key === share.keys[i]);
