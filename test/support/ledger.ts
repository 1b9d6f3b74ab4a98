import type { NewShare, ShareMessage } from "../../src/domain/share.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";

/**
 * Writes a share straight into the SQLite ledger a running Handout uses, as if it had been posted with
 * `message`, through a second connection as the CLI would.
 */
export async function recordPostedShare(path: string, share: NewShare, message: ShareMessage): Promise<void> {
  const ledger = await openSqliteLedger(path);
  try {
    await ledger.record(share);
    await ledger.posted(share.id, message);
  } finally {
    await ledger.close();
  }
}
