import { readFileSync } from "node:fs";
import { cliCommand } from "../config/cli-command.js";
import { HandoutError } from "../domain/errors.js";
import { AUDIT_USAGE, auditCommand } from "./audit.js";
import { DOCTOR_USAGE, doctorCommand } from "./doctor.js";
import { INDEX_USAGE, indexCommand } from "./index-stats.js";
import { type CliIo, UsageError } from "./io.js";
import { KEYS_USAGE, keysCommand } from "./keys.js";
import { LEDGER_USAGE, ledgerCommand } from "./ledger.js";
import { POLICY_USAGE, policyCommand } from "./policy.js";
import { SIGN_USAGE, signCommand } from "./sign.js";

const COMMANDS: Record<string, { usage: string; run: (args: string[], io: CliIo) => Promise<number> }> = {
  sign: { usage: SIGN_USAGE, run: signCommand },
  keys: { usage: KEYS_USAGE, run: keysCommand },
  policy: { usage: POLICY_USAGE, run: policyCommand },
  index: { usage: INDEX_USAGE, run: indexCommand },
  doctor: { usage: DOCTOR_USAGE, run: doctorCommand },
  audit: { usage: AUDIT_USAGE, run: auditCommand },
  ledger: { usage: LEDGER_USAGE, run: ledgerCommand },
};

/** Every command's usage, each line starting with the command line as it runs here. */
const usage = (io: CliIo): string => {
  const name = cliCommand(io.env, io.cwd);
  const lines = [...Object.values(COMMANDS).map((command) => command.usage), "help", "--version"];
  return `Usage:\n${lines.map((line) => `  ${name} ${line}\n`).join("")}`;
};

/** The version in Handout's package.json (beside src/ and dist/). */
const version = (): string =>
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/**
 * Node's argument parser words its errors for programmers (`Unknown option '--x'. To specify a
 * positional argument starting with a '-', place it at the end of the command after '--', as in '--
 * "--x"`): say the same plainly.
 */
function parseArgsProblem(error: { code: string; message: string }, command: string): string {
  const option = /'(-[^'\s]*)/.exec(error.message)?.[1];
  const argument = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `Unknown option ${option ?? argument} for ${command}.`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${option ?? "An option"} needs a value, as in ${option ?? "--option"} VALUE.`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `${command} takes no argument ${JSON.stringify(argument)}.`;
    default:
      return error.message;
  }
}

/** Runs one command line; returns the exit code: 0 done, 1 failed, 2 bad arguments. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(usage(io));
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.out(`handout ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  // `handout sign --help`; after `--` it would be a key.
  const ownArgs = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (command && (ownArgs.includes("--help") || ownArgs.includes("-h"))) {
    io.out(`Usage:\n  ${cliCommand(io.env, io.cwd)} ${command.usage}\n`);
    return 0;
  }
  try {
    if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}.`);
    return await command.run(args, io);
  } catch (error) {
    // parseArgs reports unknown or malformed options as TypeErrors with these codes.
    const code = (error as { code?: string }).code ?? "";
    if (error instanceof UsageError || code.startsWith("ERR_PARSE_ARGS")) {
      const problem =
        error instanceof UsageError
          ? error.message
          : parseArgsProblem(error as { code: string; message: string }, name);
      io.err(`${problem}\n\n${usage(io)}`);
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
