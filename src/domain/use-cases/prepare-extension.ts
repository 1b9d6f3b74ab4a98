import { HandoutError } from "../errors.js";
import { expiryProblem } from "../expiry.js";
import type { Access } from "../policy.js";
import type { ShareRecord } from "../share.js";
import type { ShareDependencies } from "./dependencies.js";
import { shareToActOn } from "./share-to-act-on.js";

type Lookups = Pick<ShareDependencies, "ledger" | "directory" | "policy" | "now">;

/**
 * The share a person is about to extend, with how long they may now give its files, from the
 * directory's recent answer: for the dialog that asks for the new expiry. `extendShare` checks afresh.
 */
export async function prepareExtension(
  deps: Lookups,
  request: { shareId: unknown; actorId: string },
): Promise<{ share: ShareRecord; access: Access; limits: { max: number; default: number } }> {
  const { share, access } = await shareToActOn(deps, {
    ...request,
    action: "extend",
    fresh: false,
    withAccess: true,
  });
  const limits = access?.expiryLimitsFor(share.keys);
  if (!access || !limits) {
    throw new HandoutError("ACCESS_DENIED", "The access policy no longer lets you share these files.");
  }
  return { share, access, limits };
}

/** What is wrong with the new expiry chosen for an extension, judged as `prepareExtension` judges. */
export async function checkExtension(
  deps: Lookups,
  request: { shareId: unknown; actorId: string; expiresAt: Date },
): Promise<ReturnType<typeof expiryProblem>> {
  const { limits } = await prepareExtension(deps, request);
  return expiryProblem(request.expiresAt, deps.now(), limits.max);
}
