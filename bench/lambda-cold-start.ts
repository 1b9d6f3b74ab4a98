import { spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeKeyPair } from "../test/support/keys.js";
import { runProcess } from "../test/support/process.js";
import { startTestBucket } from "../test/support/s3.js";
import { startSlackDouble } from "../test/support/slack-double.js";
import { slackRequests } from "../test/support/slack-requests.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = join(ROOT, "dist", "lambda", "index.mjs");
const ROUNDS = 15;
const SIGNING_SECRET = "bench-signing-secret";

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * In a fresh process: imports the module, hands it the events on stdin, and reports the import's time
 * and, per event, the time from the process's start to the handler's answer.
 */
const CHILD = `
const started = performance.now();
const module = await import(process.argv[1]);
const importMs = performance.now() - started;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const answeredAtMs = [];
for (const event of JSON.parse(input || "[]")) {
  const answer = await module.handler(event, {});
  if (answer.statusCode !== 200) throw new Error("the handler answered " + answer.statusCode);
  answeredAtMs.push(performance.now());
}
// A process that is to leave a snapshot behind stays until it has (a container lives on after answering).
const { existsSync } = await import("node:fs");
const waitFor = process.env.BENCH_WAIT_FOR_FILE;
for (let waited = 0; waitFor && !existsSync(waitFor) && waited < 10000; waited += 20)
  await new Promise((resolve) => setTimeout(resolve, 20));
process.stdout.write(JSON.stringify({ importMs, answeredAtMs }));
process.exit(0);
`;

interface ChildRun {
  /** From spawning the process to its exit, as seen from here. */
  wallMs: number;
  importMs: number;
  answeredAtMs: number[];
}

async function coldStart(module: string, env: NodeJS.ProcessEnv, events: unknown[] = []): Promise<ChildRun> {
  const spawnedAt = performance.now();
  const child = await runProcess(process.execPath, ["--input-type=module", "-e", CHILD, module], {
    env,
    input: JSON.stringify(events),
  });
  if (child.code !== 0) throw new Error(`the child failed (exit ${child.code}): ${child.stderr}`);
  return { wallMs: performance.now() - spawnedAt, ...JSON.parse(child.stdout) };
}

function buildBundle(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", "build-lambda.mjs")], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build:lambda failed (exit ${code})`)),
    );
  });
}

/**
 * The Lambda bundle's cold start. Beside it, measured in the same rounds, a baseline: a fresh Node
 * process importing a trivial ES module (Node's own start-up, which no bundle can avoid). Then a whole
 * cold start against local doubles: from the process's start to the answer to a signed /share command,
 * which includes building Handout (policy, key, Slack's auth.test) and opening and filling the modal.
 * Real Slack and AWS add their network round trips to that last figure.
 */
export async function run(): Promise<Record<string, number>> {
  await buildBundle();
  const dir = await mkdtemp(join(tmpdir(), "handout-bench-lambda-"));
  const trivial = join(dir, "trivial.mjs");
  await writeFile(trivial, "export const handler = async () => ({ statusCode: 200, body: '' });\n");

  const bundle = { importMs: [] as number[], wallMs: [] as number[] };
  const baseline = { importMs: [] as number[], wallMs: [] as number[] };
  const env = { PATH: process.env.PATH };
  for (let i = 0; i < ROUNDS; i++) {
    const base = await coldStart(trivial, env);
    baseline.importMs.push(base.importMs);
    baseline.wallMs.push(base.wallMs);
    const loaded = await coldStart(BUNDLE, env);
    bundle.importMs.push(loaded.importMs);
    bundle.wallMs.push(loaded.wallMs);
  }

  const bucket = await startTestBucket();
  const slack = await startSlackDouble();
  const firstAnswerMs: number[] = [];
  try {
    await bucket.put("public/handbook/handbook.pdf");
    slack.workspace.users.set("U0ANA", { id: "U0ANA", name: "ana" });
    slack.workspace.channels.set("C0GENERAL", { id: "C0GENERAL", name: "general", members: ["U0ANA"] });
    const snapshot = join(dir, "index.snapshot");
    const pair = makeKeyPair();
    await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
    await writeFile(
      join(dir, "access.yml"),
      "contact: Ask #it-help.\nrules:\n  - who: { everyone: true }\n    prefixes: [public/handbook/]\n",
    );
    const handoutEnv = {
      PATH: process.env.PATH,
      ...bucket.env,
      LOG_LEVEL: "error",
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
      CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
      CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
      HANDOUT_POLICY_FILE: join(dir, "access.yml"),
      HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
      // As the README's Lambda section advises: each timed cold start loads the index the last complete
      // listing saved before it answers, as a new container would.
      HANDOUT_INDEX_SNAPSHOT: snapshot,
    };
    const requests = slackRequests({ baseUrl: "http://127.0.0.1:9", signingSecret: SIGNING_SECRET });
    const command = () => {
      const body = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "handbook" });
      return {
        version: "2.0",
        routeKey: "$default",
        rawPath: "/slack/events",
        rawQueryString: "",
        headers: { "content-type": "application/x-www-form-urlencoded", ...requests.sign(body) },
        requestContext: { http: { method: "POST", path: "/slack/events" } },
        body,
        isBase64Encoded: false,
      };
    };
    // First, untimed, a container that lists the bucket and stays until it has saved the snapshot.
    // A process that exits as it answers would leave none: every round would list instead.
    await coldStart(BUNDLE, { ...handoutEnv, BENCH_WAIT_FOR_FILE: snapshot }, [command()]);
    await stat(snapshot).catch(() => {
      throw new Error(
        "the first cold start saved no index snapshot: the figures would not include loading one",
      );
    });
    for (let i = 0; i < ROUNDS; i++) {
      const answered = await coldStart(BUNDLE, handoutEnv, [command()]);
      firstAnswerMs.push(answered.answeredAtMs[0] ?? Number.NaN);
    }
  } finally {
    await slack.stop();
    await bucket.stop();
  }

  const bundleBytes = (await stat(BUNDLE)).size;
  await rm(dir, { recursive: true, force: true });
  const median = (values: number[]) => round1(percentile(values, 50));
  const p95 = (values: number[]) => round1(percentile(values, 95));
  return {
    "lambda.bundle_kib": Math.round(bundleBytes / 1024),
    "lambda.import_ms_median": median(bundle.importMs),
    "lambda.import_ms_p95": p95(bundle.importMs),
    "lambda.baseline_import_ms_median": median(baseline.importMs),
    "lambda.process_ms_median": median(bundle.wallMs),
    "lambda.process_ms_p95": p95(bundle.wallMs),
    "lambda.baseline_process_ms_median": median(baseline.wallMs),
    "lambda.process_vs_baseline": Number(
      (percentile(bundle.wallMs, 50) / percentile(baseline.wallMs, 50)).toFixed(2),
    ),
    "lambda.first_answer_ms_median": median(firstAnswerMs),
    // A machine that starts processes slower starts this one slower too: the ratio moves less.
    "lambda.first_answer_vs_baseline_process": Number(
      (percentile(firstAnswerMs, 50) / percentile(baseline.wallMs, 50)).toFixed(2),
    ),
    "lambda.first_answer_ms_p95": p95(firstAnswerMs),
  };
}
