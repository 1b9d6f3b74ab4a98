import { HandoutError } from "./errors.js";
import {
  isShareId,
  isStuckPending,
  type RevocationList,
  type ShareLedger,
  type ShareRecord,
  unknownShare,
} from "./ledger.js";
import { accessFor } from "./policy.js";
import type { Announcement, MessageEdit, Posted, ShareMessages } from "./ports.js";
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
  if (!share) throw unknownShare();
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
 * Whether the share's message was turned into a pointer to its extension: only once the extension was
 * posted. A claim left by one that never finished changed nothing, and the message still needs editing.
 */
async function extensionPosted(deps: LifeDependencies, share: ShareRecord): Promise<boolean> {
  if (!share.replacedBy) return false;
  const extension = await deps.ledger.get(share.replacedBy);
  return extension?.state === "active" || extension?.state === "expired" || extension?.state === "revoked";
}

/**
 * What a revoke did to the share's message: as `MessageEdit`, or `failed` (Slack refused the edit: the
 * message may be deleted), or `kept` (an extended share's message holds only the pointer to the newer one).
 */
export type RevokedMessage = MessageEdit | "failed" | "kept";

/**
 * Revokes a share: recorded first, then denied at the edge, then its message loses its links. Revoking
 * again repeats the edge step, which is how a failed one is retried.
 */
export async function revokeShare(
  deps: LifeDependencies,
  request: { shareId: unknown; actorId: string },
  onMessageError: (error: unknown) => void,
): Promise<{ share: ShareRecord; message: RevokedMessage }> {
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
  // The revoke stands whether or not the message could be edited (it may have been deleted). An
  // extended share's message holds no links, only the pointer to the newer one: it is left as it is.
  if (await extensionPosted(deps, result.share).catch(() => false))
    return { share: result.share, message: "kept" };
  const message = await deps.messages.revoked(result.share, request.actorId).catch((error: unknown) => {
    onMessageError(error);
    return "failed" as const;
  });
  return { share: result.share, message };
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

const alreadyExtended = (share: ShareRecord): HandoutError =>
  new HandoutError(
    "INPUT_INVALID",
    share.replacedBy
      ? "That share was already extended, or is being extended right now."
      : `That share cannot be extended: it was ${share.state}.`,
  );

/**
 * Shares the same files again, in the same place, with a new expiry: a new share, checked like any
 * other against the policy as it stands. The old message then points to the new one.
 *
 * The new share is recorded, then claims the old one (the ledger's conditional `markReplaced`) before
 * any link is made: of two extensions at once (two open dialogs, the sharer and an admin) one posts and
 * the other is told. A claim is given back when the ledger says its share failed, and one left by a
 * share that failed (or was never recorded) is taken over. A claim left by a share still pending (a
 * crash between claiming and posting) is not: that share may have been posted.
 */
export async function extendShare(
  deps: LifeDependencies,
  request: { shareId: unknown; actorId: string; expiresAt: Date; stop?: AbortSignal | undefined },
  onMessageError: (error: unknown) => void = () => {},
): Promise<{ record: ShareRecord; posted: Posted }> {
  const old = await ownShare(deps, request.shareId, request.actorId);
  // A claim held by a share that failed, or was never recorded, may be taken over.
  const abandoned = (holder: ShareRecord | undefined) => holder === undefined || holder.state === "failed";
  if (old.state === "revoked" || old.state === "failed") throw alreadyExtended(old);
  if (old.replacedBy) {
    const holder = await deps.ledger.get(old.replacedBy);
    if (holder && isStuckPending(holder, deps.now())) {
      throw new HandoutError(
        "INPUT_INVALID",
        "An earlier extension of this share never finished, so Handout cannot tell whether its links were posted. Share the files again with /share.",
      );
    }
    if (!abandoned(holder)) throw alreadyExtended(old);
  }
  // An announcement is announced again, without pinging anyone a second time, and not pinned: a
  // pinned original now points to it. A regular message when this person may not announce.
  let announcement: Announcement | undefined;
  if (old.mode === "announce" && old.title) {
    const person = await deps.directory.person(request.actorId, { fresh: true });
    if (accessFor(deps.policy(), person).canAnnounce) {
      announcement = {
        title: old.title,
        message: old.announcementText ?? "",
        mention: "none",
        pin: false,
      };
    }
  }

  let claimedFor: string | undefined;
  const claim = async (record: ShareRecord) => {
    // Noted first: if the answer to the claim is lost, the claim may still have been made.
    claimedFor = record.id;
    let result = await deps.ledger.markReplaced(old.id, record.id);
    const holder = result.share?.replacedBy;
    if (!result.changed && holder && abandoned(await deps.ledger.get(holder))) {
      await deps.ledger.unmarkReplaced(old.id, holder);
      result = await deps.ledger.markReplaced(old.id, record.id);
    }
    if (!result.changed) throw alreadyExtended(result.share ?? old);
  };
  let made: { record: ShareRecord; posted: Posted };
  try {
    made = await shareFiles(
      {
        userId: request.actorId,
        keys: old.keys,
        expiresAt: request.expiresAt,
        channelId: old.channelId,
        mode: announcement ? "announce" : old.mode === "announce" ? "post" : old.mode,
        announcement,
        note: old.note,
        replaces: old.id,
      },
      deps,
      { recorded: claim, stop: request.stop },
    );
  } catch (error) {
    // Given back only when the ledger says the new share failed (the unmark is conditional on this
    // share holding the claim): one left pending may have been posted before the ledger failed.
    if (claimedFor) {
      const attempt = await deps.ledger.get(claimedFor).catch(() => undefined);
      if (attempt?.state === "failed")
        await deps.ledger.unmarkReplaced(old.id, claimedFor).catch(() => undefined);
    }
    throw error;
  }
  // The new links are out: the old message points to them, unless it was revoked meanwhile (it then
  // says so) or could not be edited (deleted, say), which does not undo the extension.
  const now = await deps.ledger.get(old.id).catch(() => undefined);
  if (now?.replacedBy === made.record.id && now.state !== "revoked") {
    await deps.messages.replaced(now, made.posted).catch(onMessageError);
  }
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
  keepGoing: () => boolean = () => true,
): Promise<number> {
  const now = deps.now().getTime();
  let sent = 0;
  if (!keepGoing()) return 0;
  for (const share of await deps.ledger.dueForReminder(new Date(now + windowMs))) {
    if (!keepGoing()) break; // claimed and not sent would be lost: stop before claiming
    if (share.expiresAt.getTime() <= now) continue; // expiry deals with it
    // Claimed either way, so that a short-lived announcement is not looked at again.
    const claimed = await deps.ledger.markExpiryNotified(share.id);
    // Extended meanwhile (the list may lag the ledger): its Extend button would only be refused.
    if (!claimed.changed || claimed.share.replacedBy) continue;
    if (share.expiresAt.getTime() - share.createdAt.getTime() < 2 * windowMs) continue;
    sent++;
    await deps.messages.expiresSoon(claimed.share).catch((error: unknown) => onError(claimed.share, error));
  }
  return sent;
}

/**
 * Notes the shares whose links have expired, and updates their messages. Derived from the ledger alone,
 * so a restart loses nothing: what was due while the process was down is done on the next run.
 * `keepGoing` is asked before each share (a Lambda invocation running out of time stops early).
 */
export async function expireDueShares(
  deps: LifeDependencies,
  onError: (share: ShareRecord, error: unknown) => void,
  keepGoing: () => boolean = () => true,
): Promise<number> {
  const now = deps.now();
  let done = 0;
  for (const share of await deps.ledger.dueForExpiry(now)) {
    if (!keepGoing()) break; // the next pass takes the rest
    const claimed = await deps.ledger.markExpired(share.id);
    if (!claimed.changed) continue; // another replica got there first
    done++;
    // An extended share's message already points to the newer one, which is what it should keep saying.
    if (await extensionPosted(deps, claimed.share)) continue;
    // The link has stopped opening either way; a message left unedited is a blemish, not a leak.
    await deps.messages.expired(claimed.share).catch((error: unknown) => onError(claimed.share, error));
  }
  if (keepGoing()) await deps.revocations?.pruneExpired(now);
  return done;
}
