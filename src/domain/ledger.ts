/** The ledger port: the record of every share, and the contract both stores keep. */
import { HandoutError } from "./errors.js";
import type { NewShare, ShareMessage, ShareOpen, ShareRecord, ShareState, Transition } from "./share.js";

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
