import { parseArgs } from "node:util";
import * as blackbox from "./blackbox.js";
import * as lambdaColdStart from "./lambda-cold-start.js";
import { formatTable } from "./report.js";
import * as search from "./search.js";
import * as sign from "./sign.js";
import * as slackOpen from "./slack-open.js";
import * as snapshot from "./snapshot.js";

/**
 * Runs every benchmark in one process, so ratios compare figures measured on the same machine at the
 * same time. `npm run bench` prints a table; `npm run bench -- --json` prints one JSON object.
 */
const suites: Record<string, { run: () => Promise<Record<string, number>> }> = {
  sign,
  search,
  "slack-open": slackOpen,
  "lambda-cold-start": lambdaColdStart,
  snapshot,
  blackbox,
};

const names = Object.keys(suites);
const USAGE = `Usage: npm run bench [-- [SUITE…] [--json]]
  SUITE   one or more of: ${names.join(", ")} (default: all)
  --json  print one JSON object of named figures instead of the table
`;

const parse = () =>
  parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
let options: ReturnType<typeof parse>;
try {
  options = parse();
} catch (error) {
  const option = /'(-[^'\s]*)/.exec((error as Error).message)?.[1] ?? String(error);
  process.stderr.write(`Unknown option ${option}.\n\n${USAGE}`);
  process.exit(2);
}
if (options.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = options.positionals.filter((name) => !(name in suites));
if (unknown.length > 0) {
  process.stderr.write(
    `No suite named ${unknown.map((name) => JSON.stringify(name)).join(", ")}: the suites are ${names.join(", ")}.\n\n${USAGE}`,
  );
  process.exit(2);
}

const figures: Record<string, number> = {};
for (const [name, suite] of Object.entries(suites)) {
  if (options.positionals.length > 0 && !options.positionals.includes(name)) continue;
  process.stderr.write(`running ${name}…\n`);
  Object.assign(figures, await suite.run());
}

process.stdout.write(options.values.json ? `${JSON.stringify(figures)}\n` : formatTable(figures));
