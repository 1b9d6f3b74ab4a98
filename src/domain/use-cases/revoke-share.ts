import { HandoutError } from "../errors.js";
import type { MessageEdit } from "../ports.js";
import type { ShareRecord } from "../share.js";
import type { LifeDependencies } from "./dependencies.js";
import { extensionPosted } from "./extension-posted.js";
import { shareToActOn } from "./share-to-act-on.js";

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
  const { share } = await shareToActOn(deps, {
    ...request,
    action: "revoke",
    fresh: true,
  });
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
