import { spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHandout } from "../../src/app/server.js";
import { captureLogs } from "../support/log.js";
import { runProcess } from "../support/process.js";
import { startSlackDouble } from "../support/slack-double.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const TSX = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
const MAIN = join(root, "src", "main.ts");

let dir: string;

/** The embedded default in its own folders, with nothing else set: what a first run has. */
const baseEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  PORT: "0",
  HANDOUT_LOCAL_DIR: join(dir, "files"),
  HANDOUT_STATE_DIR: join(dir, "state"),
  HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
});

/** Starts Handout as `npm start` does, from a folder of its own; it must stop by itself, at once. */
const start = (env: NodeJS.ProcessEnv) =>
  runProcess(process.execPath, ["--import", TSX, MAIN], { cwd: dir, env, timeoutMs: 45_000 });

/** What a failed start printed: the message, and no stack trace or library's raw text. */
function expectMessage(run: { code: number | null; stderr: string }, text: string) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(text);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "handout-start-up-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test starts Node with tsx, which takes seconds on a busy machine.
describe("a start that cannot succeed says which setting to fix", { timeout: 60_000 }, () => {
  it("names LOG_LEVEL when it is not a level, rather than a logger's stack trace", async () => {
    const run = await start({ ...baseEnv(), LOG_LEVEL: "loud" });
    expectMessage(run, "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent.");
  });

  it("names LOG_LEVEL when Docker's --env-file kept the quotes around it", async () => {
    const run = await start({ ...baseEnv(), LOG_LEVEL: "'debug'" });
    expectMessage(run, "LOG_LEVEL is wrapped in quotes, which Docker's --env-file keeps");
  });

  it("names PORT when another program has the port", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await start({ ...baseEnv(), PORT: String(port) });
      expectMessage(run, `PORT ${port} is in use by another program (EADDRINUSE)`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("names HANDOUT_STATE_DIR when Handout cannot make its key folder there", async () => {
    // A file where the folder would go: refused even for root, unlike permissions.
    const file = join(dir, "a-file");
    await writeFile(file, "not a folder");
    const run = await start({ ...baseEnv(), HANDOUT_STATE_DIR: join(file, "state") });
    expectMessage(run, `HANDOUT_STATE_DIR is ${join(file, "state")}, which Handout cannot write (ENOTDIR`);
  });

  it("names HANDOUT_LOCAL_DIR when Handout cannot make the local folder there", async () => {
    const file = join(dir, "another-file");
    await writeFile(file, "not a folder");
    const run = await start({ ...baseEnv(), HANDOUT_LOCAL_DIR: join(file, "files") });
    expectMessage(run, `HANDOUT_LOCAL_DIR is ${join(file, "files")}, which Handout cannot write (ENOTDIR`);
  });

  it.each([
    ["SLACK_APP_TOKEN", "xapp-1-test"],
    ["SLACK_SIGNING_SECRET", "a-signing-secret"],
  ])(
    "says SLACK_BOT_TOKEN is missing when only %s is set, rather than start without Slack",
    async (name, value) => {
      const run = await start({ ...baseEnv(), [name]: value });
      expectMessage(run, "SLACK_BOT_TOKEN is not set: set it to the app's bot token");
      expect(run.stderr).not.toContain(value);
    },
  );

  it("refuses a HANDOUT_POLICY_FILE that does not exist, rather than open the trial policy", async () => {
    const run = await start({ ...baseEnv(), HANDOUT_POLICY_FILE: join(dir, "acess.yml") });
    expectMessage(run, "HANDOUT_POLICY_FILE names this file, which does not exist");
    expect(run.stderr).not.toContain("Handout is running");
  });
});

/** Starts Handout, waits for its first "running" line, stops it, and returns what it logged. */
async function logsOfAStart(env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, ["--import", TSX, MAIN], { cwd: dir, env, stdio: "pipe" });
  let output = "";
  const running = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Handout did not start:\n${output}`)), 45_000);
    child.stderr.on("data", (chunk) => {
      output += chunk;
      if (output.includes("Handout is running")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`Handout stopped:\n${output}`));
    });
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await running;
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  return output;
}

describe("the log's format", { timeout: 60_000 }, () => {
  it("is readable lines with LOG_FORMAT=pretty: a level word and a local time, not numbers", async () => {
    const output = await logsOfAStart({ ...baseEnv(), LOG_FORMAT: "pretty" });
    const line = output.split("\n").find((text) => text.includes("Handout is running")) as string;
    expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO.*: Handout is running on port \d+/);
    expect(output).not.toContain('"level":');
    expect((await stat(join(dir, "state", "private_key.pem"))).isFile()).toBe(true);
  });

  it("is one JSON object a line for machines (stderr not a terminal, LOG_FORMAT unset)", async () => {
    const output = await logsOfAStart(baseEnv());
    const lines = output
      .split("\n")
      .filter(Boolean)
      .map((text) => JSON.parse(text) as { level: number; msg: string });
    expect(lines.some((line) => line.level === 30 && line.msg.startsWith("Handout is running"))).toBe(true);
  });
});

describe("Slack's own warnings", () => {
  it("go through Handout's logger, in its format, rather than as bare [WARN] lines", async () => {
    const slack = await startSlackDouble();
    const policy = join(dir, "slack-access.yml");
    await writeFile(policy, "rules:\n  - who: { everyone: true }\n    whole_bucket: true\n");
    // The Web API client retries a rate-limited call, and warns that it does.
    slack.failNext("auth.test", { status: 429, retryAfter: 0 });
    const logs = captureLogs();
    const handout = await buildHandout(
      {
        ...baseEnv(),
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: "a-signing-secret",
        SLACK_API_URL: slack.apiUrl,
        HANDOUT_POLICY_FILE: policy,
      },
      logs.logger,
    );
    try {
      const warning = logs.lines().find((line) => line.component === "slack" && line.level === 40);
      expect(warning?.msg).toMatch(/rate limit/i);
    } finally {
      await handout.close();
      await slack.stop();
    }
  });
});
