import type { ShareLedger } from "../ledger.js";
import type { ShareRecord } from "../share.js";

/**
 * Whether the share's message was turned into a pointer to its extension: only once the extension was
 * posted. A claim left by one that never finished changed nothing, and the message still needs editing.
 */
export async function extensionPosted(
  deps: { readonly ledger: ShareLedger },
  share: ShareRecord,
): Promise<boolean> {
  if (!share.replacedBy) return false;
  const extension = await deps.ledger.get(share.replacedBy);
  return extension?.state === "active" || extension?.state === "expired" || extension?.state === "revoked";
}
