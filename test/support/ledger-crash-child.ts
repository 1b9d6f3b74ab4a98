/**
 * A burst of shares, as the app makes them: record → "post" → posted. Appending the id to the posted
 * log (flushed to disk) stands for the message appearing in Slack. The crash test SIGKILLs this process
 * at random moments. Usage: node --import tsx ledger-crash-child.ts <ledger.db> <posted.log>
 */
import { appendFileSync, fsyncSync, openSync } from "node:fs";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";

const [ledgerPath, postedLog] = process.argv.slice(2);
if (!ledgerPath || !postedLog) throw new Error("usage: ledger-crash-child.ts <ledger.db> <posted.log>");

const ledger = await openSqliteLedger(ledgerPath);
const log = openSync(postedLog, "a");

async function shareForever(worker: number): Promise<never> {
  for (;;) {
    const id = newShareId();
    const createdAt = new Date();
    await ledger.record({
      id,
      sharerId: `U${worker}`,
      keys: [`reports/${id}.pdf`],
      channelId: "C1",
      mode: "post",
      createdAt,
      expiresAt: new Date(createdAt.getTime() + 3_600_000),
    });
    appendFileSync(log, `${id}\n`);
    fsyncSync(log);
    await ledger.posted(id, {
      channelId: "C1",
      ts: `${createdAt.getTime() / 1000}`,
      via: "message",
      pinned: false,
    });
    // Let the other workers in, as concurrent requests would.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

process.stdout.write("ready\n");
await Promise.all([1, 2, 3, 4].map(shareForever));
