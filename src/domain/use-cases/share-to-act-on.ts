/** Who may act on a share: the sharer, or an admin. */

import type { Access } from "../policy.js";
import { accessFor } from "../policy.js";
import type { ShareRecord } from "../share.js";
import { unknownShare } from "../share.js";
import { isShareId } from "../share-id.js";
import { mayActOn, notTheSharer, type ShareAction } from "../share-rights.js";
import type { ShareDependencies } from "./dependencies.js";

type Lookups = Pick<ShareDependencies, "ledger" | "directory" | "policy">;

/**
 * The share, if the person may act on it: its sharer, or an admin. Both are judged from the ledger and
 * the directory, never from what a button claims. `fresh` asks Slack again, where the act is done; a
 * dialog that only offers it may rely on the directory's recent answer. The person's access is looked
 * up when `withAccess` asks for it, or when they are not the sharer.
 */
export async function shareToActOn(
  deps: Lookups,
  request: { shareId: unknown; actorId: string; action: ShareAction; fresh: boolean; withAccess?: boolean },
): Promise<{ share: ShareRecord; access: Access | undefined }> {
  const share = isShareId(request.shareId) ? await deps.ledger.get(request.shareId) : undefined;
  if (!share) throw unknownShare();
  const access =
    request.withAccess || share.sharerId !== request.actorId
      ? accessFor(deps.policy(), await deps.directory.person(request.actorId, { fresh: request.fresh }))
      : undefined;
  if (!mayActOn(share, request.actorId, access)) throw notTheSharer(request.action);
  return { share, access };
}
