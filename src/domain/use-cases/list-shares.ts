import { accessFor } from "../policy.js";
import type { ShareOpen, ShareRecord } from "../share.js";
import { visibleSharer } from "../share-rights.js";
import type { ShareDependencies } from "./dependencies.js";

/**
 * The shares a person sees: their own, or for an admin everyone's (or the one person's they chose).
 * Who is an admin is read from the directory and the policy each time; when the directory cannot say,
 * the person sees their own (and `onLookupError` hears why).
 */
export async function listShares(
  deps: Pick<ShareDependencies, "ledger" | "directory" | "policy">,
  request: {
    viewerId: string;
    sharerId?: string | undefined;
    limit: number;
    /** How many of the newest shares get their opens read (members-only shares only). */
    opensOf?: number | undefined;
  },
  onLookupError: (error: unknown) => void,
): Promise<{
  shares: ShareRecord[];
  isAdmin: boolean;
  sharerId: string | undefined;
  opens: Map<string, ShareOpen[]>;
}> {
  const access = await deps.directory.person(request.viewerId).then(
    (person) => accessFor(deps.policy(), person),
    (error: unknown) => {
      onLookupError(error);
      return undefined;
    },
  );
  const sharerId = visibleSharer(request.viewerId, access, request.sharerId);
  const shares = await deps.ledger.list({ ...(sharerId ? { sharerId } : {}), limit: request.limit });
  const opens = new Map<string, ShareOpen[]>();
  await Promise.all(
    shares
      .slice(0, request.opensOf ?? 0)
      .filter((share) => share.access === "members")
      .map(async (share) => {
        opens.set(share.id, await deps.ledger.listOpens(share.id));
      }),
  );
  return { shares, isAdmin: access?.isAdmin === true, sharerId, opens };
}
