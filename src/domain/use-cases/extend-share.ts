import { HandoutError } from "../errors.js";
import { accessFor } from "../policy.js";
import type { Announcement } from "../ports.js";
import { isStuckPending, type Posted, type ShareRecord } from "../share.js";
import type { LifeDependencies } from "./dependencies.js";
import { shareFiles } from "./share-files.js";
import { shareToActOn } from "./share-to-act-on.js";

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
  const { share: old } = await shareToActOn(deps, { ...request, action: "extend", fresh: true });
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
