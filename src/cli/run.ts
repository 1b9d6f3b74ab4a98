import { HandoutError } from "../domain/errors.js";
import { AUDIT_USAGE, auditCommand } from "./audit.js";
import { DOCTOR_USAGE, doctorCommand } from "./doctor.js";
import { INDEX_USAGE, indexCommand } from "./index-stats.js";
import { type CliIo, UsageError } from "./io.js";
import { KEYS_USAGE, keysCommand } from "./keys.js";
import { LEDGER_USAGE, ledgerCommand } from "./ledger.js";
import { POLICY_USAGE, policyCommand } from "./policy.js";
import { SIGN_USAGE, signCommand } from "./sign.js";

const USAGE = `Usage:
  ${SIGN_USAGE}
  ${KEYS_USAGE}
  ${POLICY_USAGE}
  ${INDEX_USAGE}
  ${DOCTOR_USAGE}
  ${AUDIT_USAGE}
  ${LEDGER_USAGE}
  handout help
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  sign: signCommand,
  keys: keysCommand,
  policy: policyCommand,
  index: indexCommand,
  audit: auditCommand,
  ledger: ledgerCommand,
  doctor: doctorCommand,
};

/** Runs one command line; returns the exit code: 0 done, 1 failed, 2 bad arguments. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}.`);
    return await command(args, io);
  } catch (error) {
    // parseArgs reports unknown or malformed options as TypeErrors with these codes.
    const code = (error as { code?: string }).code ?? "";
    if (error instanceof UsageError || code.startsWith("ERR_PARSE_ARGS")) {
      io.err(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof HandoutError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    io.err(`Unexpected failure: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
