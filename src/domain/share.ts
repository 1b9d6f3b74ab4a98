/** A share: what was shared, by whom, where, until when, and what became of it. */
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

/** What a person is told when a share id names no share that Handout recorded. */
export const unknownShare = (): HandoutError =>
  new HandoutError("INPUT_INVALID", "Handout has no record of that share.");
