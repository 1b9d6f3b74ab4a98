import type { ShareRecord } from "../share.js";
import type { LifeDependencies } from "./dependencies.js";

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
