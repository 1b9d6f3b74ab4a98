import { parseArgs } from "node:util";
import { createDynamoDbClient } from "../app/clients.js";
import { openLedger } from "../app/wiring.js";
import { loadConfig } from "../config/config.js";
import { createLedgerTable } from "../ledger/dynamodb.js";
import { type CliIo, UsageError } from "./io.js";

export const LEDGER_USAGE = "ledger init";

/** Creates the ledger HANDOUT_LEDGER names (a DynamoDB table with its indexes and TTL, or a SQLite file). */
export async function ledgerCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1 || positionals[0] !== "init")
    throw new UsageError("ledger has one subcommand: init.");
  const setting = loadConfig(io.env).ledger;
  if (setting.kind === "dynamodb") {
    const client = await createDynamoDbClient();
    try {
      await createLedgerTable(client, setting.table);
    } finally {
      client.destroy();
    }
    io.out(
      `✓ The DynamoDB table ${setting.table} is ready (indexes bySharer, byCreated, byDue; TTL on ttl).\n`,
    );
  } else {
    await (await openLedger(setting)).close();
    io.out(`✓ The SQLite ledger ${setting.path} is ready.\n`);
  }
  return 0;
}
