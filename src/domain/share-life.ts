import { HandoutError } from "./errors.js";
import { isShareId, newShareId, type RevocationList, type ShareLedger, type ShareRecord } from "./ledger.js";
import { accessFor } from "./policy.js";
import type { Posted, ShareMessages } from "./ports.js";
import { type ShareDependencies, shareFiles } from "./share-files.js";

export interface LifeDependencies extends ShareDependencies {
  readonly ledger: ShareLedger;
  readonly messages: ShareMessages;
  /** The edge deny list, when a CloudFront KeyValueStore is configured. */
  readonly revocations?: RevocationList | undefined;
  /** Whether a revoked share's links stop opening (an edge deny list, or Handout serving them itself). */
  readonly revokedLinksRefused: boolean;
}

/**
 * The share, if the person may act on it: its sharer, or an admin. Both are judged from the ledger and
 * the directory, never from what a button claims.
 */
async function ownShare(deps: LifeDependencies, shareId: unknown, actorId: string): Promise<ShareRecord> {
  const share = isShareId(shareId) ? await deps.ledger.get(shareId) : undefined;
  if (!share) throw new HandoutError("INPUT_INVALID", "Handout has no record of that share.");
  if (share.sharerId !== actorId) {
    const person = await deps.directory.person(actorId, { fresh: true });
    if (!accessFor(deps.policy(), person).isAdmin) {
      throw new HandoutError(
        "ACCESS_DENIED",
        "Only the person who shared these files, or an admin, can do that.",
      );
    }
  }
  return share;
}

/**
 * Revokes a share: recorded first, then denied at the edge, then its message loses its links. Revoking
 * again repeats the edge step, which is how a failed one is retried.
 */
export async function revokeShare(
  deps: LifeDependencies,
  request: { shareId: unknown; actorId: string },
  onMessageError: (error: unknown) => void,
): Promise<ShareRecord> {
  const share = await ownShare(deps, request.shareId, request.actorId);
  const result = await deps.ledger.revoke(share.id, request.actorId, deps.now());
  const revoked = result.changed || result.share?.state === "revoked";
  if (revoked) await denyAtEdge(deps, share);
  if (!result.changed) {
    const state = result.share?.state;
    throw new HandoutError(
      "INPUT_INVALID",
      state === "revoked"
        ? "That share was already revoked."
        : `That share cannot be revoked: it has ${state ?? "gone"}.`,
    );
  }
  // The revoke stands whether or not the message could be edited (it may have been deleted).
  await deps.messages.revoked(result.share, request.actorId).catch(onMessageError);
  return result.share;
}

async function denyAtEdge(deps: LifeDependencies, share: ShareRecord): Promise<void> {
  if (!deps.revocations || share.expiresAt <= deps.now()) return;
  try {
    await deps.revocations.add(share.id, share.expiresAt);
  } catch (error) {
    throw new HandoutError(
      "STORAGE_UNAVAILABLE",
      "The share is revoked in Handout, but CloudFront's deny list could not be updated, so its links may still open. Revoke it again in a minute to retry.",
      { cause: error },
    );
  }
}

/**
 * Shares the same files again, in the same place, with a new expiry: a new share, checked like any
 * other against the policy as it stands. The old message then points to the new one.
 */
export async function extendShare(
  deps: LifeDependencies,
  request: { shareId: unknown; actorId: string; expiresAt: Date },
): Promise<{ record: ShareRecord; posted: Posted }> {
  const old = await ownShare(deps, request.shareId, request.actorId);
  // The old share is claimed for the new one's id before anything is posted: of two extensions at
  // once (the sharer and an admin, two open dialogs), one posts and the other is told it was extended.
  const id = newShareId();
  const claim = await deps.ledger.markReplaced(old.id, id);
  if (!claim.changed || !claim.share) {
    const now = claim.share ?? old;
    throw new HandoutError(
      "INPUT_INVALID",
      now.replacedBy
        ? "That share was already extended, or is being extended right now."
        : `That share cannot be extended: it was ${now.state}.`,
    );
  }
  let made: { record: ShareRecord; posted: Posted };
  try {
    made = await shareFiles(
      {
        id,
        userId: request.actorId,
        keys: old.keys,
        expiresAt: request.expiresAt,
        channelId: old.channelId,
        mode: old.mode === "announce" ? "post" : old.mode,
        note: old.note,
        replaces: old.id,
      },
      deps,
    );
  } catch (error) {
    // Refused before it was recorded, or its post failed: the old share may be extended again. (One
    // left pending may have been posted before the ledger failed: it keeps the claim.)
    const attempt = await deps.ledger.get(id).catch(() => undefined);
    if (attempt === undefined || attempt.state === "failed") {
      await deps.ledger.unmarkReplaced(old.id, id).catch(() => undefined);
    }
    throw error;
  }
  await deps.messages.replaced(claim.share, made.posted);
  return made;
}

/**
 * Reminds the sharers of announcements whose links expire within `windowMs`, once each (claimed in the
 * ledger, so one replica sends it). An announcement meant to last less than twice the window gets no
 * reminder: it would come right after posting. Derived from the ledger alone, like expiry.
 */
export async function remindExpiringAnnouncements(
  deps: LifeDependencies,
  windowMs: number,
  onError: (share: ShareRecord, error: unknown) => void,
): Promise<number> {
  const now = deps.now().getTime();
  let sent = 0;
  for (const share of await deps.ledger.dueForReminder(new Date(now + windowMs))) {
    if (share.expiresAt.getTime() <= now) continue; // expiry deals with it
    // Claimed either way, so that a short-lived announcement is not looked at again.
    const claimed = await deps.ledger.markExpiryNotified(share.id);
    if (!claimed.changed) continue;
    if (share.expiresAt.getTime() - share.createdAt.getTime() < 2 * windowMs) continue;
    sent++;
    await deps.messages.expiresSoon(claimed.share).catch((error: unknown) => onError(claimed.share, error));
  }
  return sent;
}

/**
 * Notes the shares whose links have expired, and updates their messages. Derived from the ledger alone,
 * so a restart loses nothing: what was due while the process was down is done on the next run.
 */
export async function expireDueShares(
  deps: LifeDependencies,
  onError: (share: ShareRecord, error: unknown) => void,
): Promise<number> {
  const now = deps.now();
  let done = 0;
  for (const share of await deps.ledger.dueForExpiry(now)) {
    const claimed = await deps.ledger.markExpired(share.id);
    if (!claimed.changed) continue; // another replica got there first
    done++;
    // The link has stopped opening either way; a message left unedited is a blemish, not a leak.
    await deps.messages.expired(claimed.share).catch((error: unknown) => onError(claimed.share, error));
  }
  await deps.revocations?.pruneExpired(now);
  return done;
}
