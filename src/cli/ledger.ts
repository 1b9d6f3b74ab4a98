import { parseArgs } from "node:util";
import { createLedger } from "../app/wiring.js";
import { loadConfig } from "../config/config.js";
import { type CliIo, UsageError } from "./io.js";

export const LEDGER_USAGE = "ledger init";

/** Creates the ledger HANDOUT_LEDGER names (a DynamoDB table with its indexes and TTL, or a SQLite file). */
export async function ledgerCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1 || positionals[0] !== "init")
    throw new UsageError("ledger has one subcommand: init.");
  const setting = loadConfig(io.env).ledger;
  await createLedger(setting);
  if (setting.kind === "dynamodb") {
    io.out(
      `✓ The DynamoDB table ${setting.table} is ready (indexes bySharer, byCreated, byDue; TTL on ttl).\n`,
    );
  } else {
    io.out(`✓ The SQLite ledger ${setting.path} is ready.\n`);
  }
  return 0;
}
