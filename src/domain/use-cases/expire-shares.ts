import type { ShareRecord } from "../share.js";
import type { LifeDependencies } from "./dependencies.js";
import { extensionPosted } from "./extension-posted.js";

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
