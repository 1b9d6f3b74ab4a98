import * as lambdaColdStart from "./lambda-cold-start.js";
import * as search from "./search.js";
import * as sign from "./sign.js";
import * as slackOpen from "./slack-open.js";

/**
 * Runs every benchmark in one process, so ratios compare figures measured on the same machine at the
 * same time. `npm run bench` prints a table; `npm run bench -- --json` prints one JSON object.
 */
const suites: Record<string, { run: () => Promise<Record<string, number>> }> = {
  sign,
  search,
  "slack-open": slackOpen,
  "lambda-cold-start": lambdaColdStart,
};

const only = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const figures: Record<string, number> = {};
for (const [name, suite] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`running ${name}…\n`);
  Object.assign(figures, await suite.run());
}

if (process.argv.includes("--json")) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  const width = Math.max(...Object.keys(figures).map((name) => name.length));
  for (const [name, value] of Object.entries(figures)) {
    process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
  }
}
