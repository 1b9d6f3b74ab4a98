import type { ShareLedger } from "./ledger.js";
import type { ShareOpen, ShareRecord, ShareState } from "./share.js";

/** Tells a sharer, in one message, who opened their members-only links. */
export interface OpenNotices {
  tell(share: ShareRecord, opens: readonly ShareOpen[]): Promise<void>;
}

export interface TellOpensDependencies {
  readonly ledger: Pick<ShareLedger, "list" | "claimOpensToNotify">;
  readonly notices: OpenNotices;
  readonly now: () => Date;
}

/** A sharer hears about the opens of one share at most once per window, whatever the number of clicks. */
export const OPEN_NOTICE_WINDOW_MS = 5 * 60_000;

/** Opens can still be due to be told after a share ends: those made just before it was revoked or expired. */
const TOLD_STATES: readonly ShareState[] = ["active", "revoked", "expired"];

/** How many of the newest shares each pass looks at. */
const SHARES_LOOKED_AT = 500;

/**
 * Tells sharers who asked about the opens of their members-only links. Only opens made before the
 * start of the current window are claimed, so every replica's pass in one window finds the same
 * boundary: each share gets at most one notice a window, and each open is told once (the claim is
 * atomic in the ledger). Answers how many notices were sent.
 */
export async function tellOpens(
  deps: TellOpensDependencies,
  onError: (share: ShareRecord, error: unknown) => void,
  keepGoing: () => boolean = () => true,
): Promise<number> {
  const now = deps.now().getTime();
  const upTo = new Date(Math.floor(now / OPEN_NOTICE_WINDOW_MS) * OPEN_NOTICE_WINDOW_MS);
  const shares = await deps.ledger.list({ states: TOLD_STATES, limit: SHARES_LOOKED_AT });
  let sent = 0;
  for (const share of shares) {
    if (!share.notifyOpens || share.access !== "members") continue;
    if (!keepGoing()) break; // claimed and not told would be lost: stop before claiming
    const opens = await deps.ledger.claimOpensToNotify(share.id, upTo);
    if (opens.length === 0) continue;
    try {
      await deps.notices.tell(share, opens);
      sent++;
    } catch (error) {
      onError(share, error);
    }
  }
  return sent;
}
