import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { ListedObject } from "../src/search/lister.js";
import { makeKeyPair } from "../test/support/keys.js";
import { childEnv } from "../test/support/process.js";
import { type SlackCall, type SlackDouble, startSlackDouble } from "../test/support/slack-double.js";
import { type SlackRequests, slackRequests } from "../test/support/slack-requests.js";
import { startLatencyBucket } from "./s3-latency-server.js";
import { corpus } from "./search.js";

/**
 * Handout as Slack sees it: the built app started as `npm start` starts it, in a child process, against
 * a bucket served over loopback HTTP with a delay per request and the Slack double; type-ahead sent as
 * signed block_suggestion requests to /slack/events, timed from sending to the whole answer. Sizes from the environment:
 * BENCH_BLACKBOX_KEYS (1,000,001), BENCH_S3_LATENCY_MS (50), BENCH_BLACKBOX_REQUESTS (200 per query);
 * BENCH_APP_NODE_ARGS passes Node options to the app (`--cpu-prof --cpu-prof-dir=…` to profile it).
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "bench-blackbox-signing-secret";
const PERSON = "U0ANA";
const SMALL_BUCKET = 20_000;
const POLICY = "rules:\n  - who: { users: [U0ANA] }\n    whole_bucket: true\n    max_expiry: 7d\n";

const setting = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not ${text}`);
  return value;
};

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** The newest modification time under `dir`, in ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** `npm start` builds first; so does this, but only when dist/main.js is missing or older than src/. */
function ensureBuilt(): void {
  const main = join(root, "dist", "main.js");
  let built = 0;
  try {
    built = statSync(main).mtimeMs;
  } catch {}
  if (built >= newest(join(root, "src"))) return;
  process.stderr.write("  building dist/ (npm run build)…\n");
  const run = spawnSync("npm", ["run", "--silent", "build"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (run.status !== 0) throw new Error("npm run build failed");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** VmRSS of a process, in MB. */
const rssMb = (pid: number): number => {
  const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) / 1024;
};

/** VmHWM of a process (the most RSS it has held), in MB. */
const peakRssMb = (pid: number): number => {
  const line = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!line) throw new Error(`no VmHWM for process ${pid}`);
  return Number(line[1]) / 1024;
};

/**
 * The least RSS of a process over `ms`: what it holds once the garbage of a listing is collected. V8
 * gives memory back to the system a few seconds after the allocations stop, not at once.
 */
async function settledRssMb(pid: number, ms: number): Promise<number> {
  let least = rssMb(pid);
  for (let waited = 0; waited < ms; waited += 250) {
    await sleep(250);
    least = Math.min(least, rssMb(pid));
  }
  return least;
}

/** CPU seconds (user and system) a process has used, from /proc/<pid>/stat (ticks of 1/100 s on Linux). */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

interface Health {
  ok?: boolean;
  index?: { files: number; complete: boolean; building: boolean };
}

/** What /healthz answers, or undefined while the app does not answer. */
const readHealth = (baseUrl: string): Promise<Health | undefined> =>
  fetch(`${baseUrl}/healthz`).then(
    async (res) => (await res.json()) as Health,
    () => undefined,
  );

interface App {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** When it was spawned, on performance.now()'s clock. */
  readonly spawnedAt: number;
  /** From spawning to the first answer of /healthz, ms. */
  readonly upMs: number;
  /** RSS at the first answer of /healthz, before much of the bucket is listed. */
  readonly rssAtUpMb: number;
  /** Files the index held at that first answer. */
  readonly filesAtUp: number;
  /** From spawning until /healthz reports the whole bucket indexed, ms. */
  readonly searchableMs: number;
  /** CPU seconds the app used by then. */
  readonly cpuS: number;
  /** CPU seconds this process (the bucket's server among it) used meanwhile. */
  readonly benchCpuS: number;
  stop(): Promise<void>;
}

/** Node's options in `npm start`'s command (`node [options] dist/main.js`). */
function startOptions(): string[] {
  const start = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.start as string;
  const [command, ...rest] = start.split(" ");
  if (command !== "node" || rest.at(-1) !== "dist/main.js")
    throw new Error(`npm start runs ${JSON.stringify(start)}, not node [options] dist/main.js`);
  return rest.slice(0, -1);
}

/** Starts dist/main.js as `npm start` does and waits until all `files` are searchable. */
async function startApp(env: Record<string, string>, files: number, output: string[]): Promise<App> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const benchCpu = process.cpuUsage();
  // BENCH_APP_NODE_ARGS, e.g. `--cpu-prof`, profiles the app as it answers.
  const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...startOptions(), ...nodeArgs, join(root, "dist", "main.js")], {
    cwd: root,
    env: childEnv({ ...env, PORT: String(port) }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
  // A bench that fails or is interrupted leaves no server behind.
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const stop = async () => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    await exited;
    process.off("exit", orphan);
  };
  let up: { ms: number; rss: number; files: number } | undefined;
  try {
    for (;;) {
      if (exitCode !== undefined) throw new Error(`Handout exited (${exitCode}):\n${output.join("")}`);
      if (performance.now() - started > 600_000)
        throw new Error("the index was not complete after 10 minutes");
      const health = await readHealth(baseUrl);
      if (health?.index) {
        up ??= {
          ms: performance.now() - started,
          rss: rssMb(child.pid as number),
          files: health.index.files,
        };
        if (health.index.complete && health.index.files > files) {
          throw new Error(`the index holds ${health.index.files} files of a bucket of ${files}`);
        }
        if (health.index.complete && health.index.files === files) break;
      }
      await sleep(up ? 25 : 10);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const searchableMs = performance.now() - started;
  const cpuS = cpuSeconds(child.pid as number);
  const { user, system } = process.cpuUsage(benchCpu);
  if (!up) throw new Error("the index was complete before /healthz answered");
  return {
    child,
    baseUrl,
    spawnedAt: started,
    upMs: up.ms,
    rssAtUpMb: up.rss,
    filesAtUp: up.files,
    searchableMs,
    cpuS,
    benchCpuS: (user + system) / 1e6,
    stop,
  };
}

/** Waits until the index is no longer at work (its segments merged) and its snapshot is written. */
async function settled(baseUrl: string, snapshot: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const health = await readHealth(baseUrl);
    if (health?.index?.building === false && (await stat(snapshot).catch(() => undefined))) return;
    await sleep(50);
  }
  throw new Error("the index was still at work, or had written no snapshot, a minute after its listing");
}

/** One client listing the whole bucket, page after page, with the SDK as it comes (as Handout asks, URL-encoded). */
async function serialListing(endpoint: string, bucket: string): Promise<{ ms: number; keys: number }> {
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "BENCH", secretAccessKey: "BENCH" },
  });
  const start = performance.now();
  let keys = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, EncodingType: "url" }),
    );
    keys += page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  client.destroy();
  return { ms: performance.now() - start, keys };
}

/** The share modal's view, as the person sees it once Handout has filled it in. */
async function openShareForm(
  slack: SlackDouble,
  requests: SlackRequests,
): Promise<{ id: string; private_metadata: string }> {
  const since = slack.calls.length;
  const ack = await requests.command({ user_id: PERSON, channel_id: "C0GENERAL" });
  if (ack.status !== 200) throw new Error(`/share was answered ${ack.status}`);
  const after = (call: SlackCall) => slack.calls.indexOf(call) >= since;
  const opened = await slack.waitFor("views.open", after, 10_000);
  for (let i = 0; i < 500 && !opened.response; i++) await sleep(10);
  if (!opened.response) throw new Error("the Slack double never answered views.open");
  const id = (opened.response.body as { view: { id: string } }).view.id;
  let view = opened.args.view as { private_metadata: string; blocks: unknown[] };
  if (JSON.stringify(view.blocks).includes(":hourglass_flowing_sand:")) {
    const update = await slack.waitFor(
      "views.update",
      (call) => after(call) && call.args.view_id === id,
      10_000,
    );
    view = update.args.view as typeof view;
  }
  return { id, private_metadata: view.private_metadata };
}

/** The kinds of query a person types, from broad to none. */
function queryKinds(small: readonly ListedObject[]): Record<string, string> {
  const specific = (small[Math.floor(small.length / 2)] as ListedObject).key.split("/").at(-1) as string;
  return {
    letter: "a",
    extension: ".pdf",
    common_word: "report",
    specific_name: specific,
    nothing: "zqxj no such file",
  };
}

/** Round trips of signed block_suggestion requests, one at a time, per query kind: p50 and p99 in ms. */
async function typeAhead(
  baseUrl: string,
  slack: SlackDouble,
  kinds: Record<string, string>,
  count: number,
): Promise<Record<string, { p50: number; p99: number; options: number }>> {
  const requests = slackRequests({ baseUrl, signingSecret: SECRET });
  const view = await openShareForm(slack, requests);
  // Slack's clock runs from sending a request to its answer: the payload is built and signed before
  // the timer starts, and sent with plain node:http over a kept-alive connection, as Slack keeps one
  // (fetch costs this process about a millisecond a request more, measured, all of it on the timer).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL("/slack/events", baseUrl);
  const ask = async (value: string) => {
    const body = requests.payloadBody(
      requests.blockSuggestion({ user: PERSON, action_id: "files_input", block_id: "files", value, view }),
    );
    const headers = {
      ...requests.sign(body),
      "content-type": "application/x-www-form-urlencoded",
      "content-length": String(Buffer.byteLength(body)),
    };
    const start = performance.now();
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: "POST", agent, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
    const ms = performance.now() - start;
    if (answer.status !== 200) throw new Error(`block_suggestion for ${value} was answered ${answer.status}`);
    return { ms, options: (JSON.parse(answer.text) as { options: unknown[] }).options.length };
  };
  const out: Record<string, { p50: number; p99: number; options: number }> = {};
  // This process holds the bucket's million keys and the serial listing's garbage: collected now, a
  // pause of its own is not timed as the app's (`npm run bench` runs with --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  for (const [kind, value] of Object.entries(kinds)) {
    for (let i = 0; i < Math.min(20, count); i++) await ask(value);
    const times: number[] = [];
    let options = 0;
    for (let i = 0; i < count; i++) {
      const answer = await ask(value);
      times.push(answer.ms);
      options = answer.options;
    }
    times.sort((a, b) => a - b);
    out[kind] = { p50: round(percentile(times, 50), 2), p99: round(percentile(times, 99), 2), options };
  }
  agent.destroy();
  if ((out.nothing?.options ?? 1) !== 0) throw new Error("the query meant to match nothing matched files");
  if ((out.specific_name?.options ?? 0) === 0) throw new Error("the specific name matched no file");
  return out;
}

export async function run(): Promise<Record<string, number>> {
  const keys = setting("BENCH_BLACKBOX_KEYS", 1_000_001);
  const latencyMs = setting("BENCH_S3_LATENCY_MS", 50);
  const count = Math.max(1, setting("BENCH_BLACKBOX_REQUESTS", 200));
  ensureBuilt();
  // The same seed draws the same keys first: the small bucket's keys are all in the large one.
  const objects = corpus(keys);
  const small = corpus(Math.min(SMALL_BUCKET, keys));
  const kinds = queryKinds(small);

  const dir = await mkdtemp(join(tmpdir(), "handout-bench-blackbox-"));
  const pair = makeKeyPair();
  await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
  await writeFile(join(dir, "access.yml"), POLICY);
  const slack = await startSlackDouble();
  slack.workspace.users.set(PERSON, { id: PERSON, name: "ana" });
  slack.workspace.channels.set("C0GENERAL", { id: "C0GENERAL", name: "general", members: [PERSON, "UBOT"] });
  const envFor = (endpoint: string, bucket: string, name: string): Record<string, string> => ({
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "BENCH",
    AWS_SECRET_ACCESS_KEY: "BENCH",
    AWS_ENDPOINT_URL_S3: endpoint,
    HANDOUT_BUCKET: bucket,
    HANDOUT_S3_FORCE_PATH_STYLE: "true",
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SECRET,
    CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
    CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
    CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
    HANDOUT_POLICY_FILE: join(dir, "access.yml"),
    HANDOUT_LEDGER: `sqlite:${join(dir, `${name}.db`)}`,
    HANDOUT_INDEX_SNAPSHOT: join(dir, `${name}.snapshot`),
    LOG_LEVEL: "warn",
  });
  const output: string[] = [];
  const figures: Record<string, number> = {
    "blackbox.keys": keys,
    "blackbox.s3_delay_per_request": latencyMs,
    "blackbox.requests_per_query": count,
  };
  const apps: App[] = [];
  const large = await startLatencyBucket(objects, latencyMs, "handout-bench");
  const tiny = await startLatencyBucket(small, latencyMs, "handout-bench-small");
  try {
    process.stderr.write(`  a serial listing of ${keys.toLocaleString("en-US")} keys…\n`);
    const serial = await serialListing(large.endpoint, large.name);
    if (serial.keys !== keys) throw new Error(`the serial listing saw ${serial.keys} of ${keys} keys`);
    figures["blackbox.listing.serial_s"] = round(serial.ms / 1000, 2);

    process.stderr.write("  first start: a full listing…\n");
    const largeEnv = envFor(large.endpoint, large.name, "large");
    const listedBefore = large.listRequests();
    const first = await startApp(largeEnv, keys, output);
    apps.push(first);
    const rssAfter = rssMb(first.child.pid as number);
    figures["blackbox.listing.parallel_s"] = round(first.searchableMs / 1000, 2);
    figures["blackbox.listing.parallel_vs_serial"] = round(serial.ms / first.searchableMs, 2);
    figures["blackbox.listing.app_cpu_s"] = round(first.cpuS, 2);
    figures["blackbox.listing.bench_and_bucket_cpu_s"] = round(first.benchCpuS, 2);
    figures["blackbox.listing.list_requests"] = large.listRequests() - listedBefore;
    figures["blackbox.start.healthz_answers_s"] = round(first.upMs / 1000, 2);
    figures["blackbox.rss.growth_mb"] = round(rssAfter - first.rssAtUpMb);
    figures["blackbox.rss.peak_growth_mb"] = round(peakRssMb(first.child.pid as number) - first.rssAtUpMb);
    figures["blackbox.rss.files_at_first_reading"] = first.filesAtUp;

    // After a complete listing the index merges its segments and then saves its snapshot, a few
    // seconds of work in stretches: the type-ahead is measured once both are done, as it runs for the
    // ten minutes to the next listing.
    const snapshot = largeEnv.HANDOUT_INDEX_SNAPSHOT as string;
    await settled(first.baseUrl, snapshot);
    figures["blackbox.listing.settled_s"] = round((performance.now() - first.spawnedAt) / 1000, 2);
    // The most RSS held from the start until the segments were merged and the snapshot written.
    figures["blackbox.rss.peak_to_settled_growth_mb"] = round(
      peakRssMb(first.child.pid as number) - first.rssAtUpMb,
    );
    process.stderr.write("  type-ahead over the whole bucket…\n");
    const broad = await typeAhead(first.baseUrl, slack, kinds, count);
    for (const [kind, { p50, p99, options }] of Object.entries(broad)) {
      figures[`blackbox.typeahead.${kind}.p50_ms`] = p50;
      figures[`blackbox.typeahead.${kind}.p99_ms`] = p99;
      figures[`blackbox.typeahead.${kind}.options`] = options;
    }
    figures["blackbox.rss.after_typeahead_mb"] = round(rssMb(first.child.pid as number));

    figures["blackbox.rss.settled_growth_mb"] = round(
      (await settledRssMb(first.child.pid as number, 15_000)) - first.rssAtUpMb,
    );
    await first.stop();
    if (!(await stat(snapshot).catch(() => undefined))) throw new Error("the first start wrote no snapshot");
    process.stderr.write("  second start: from the snapshot…\n");
    const second = await startApp(largeEnv, keys, output);
    apps.push(second);
    figures["blackbox.start.snapshot_s"] = round(second.searchableMs / 1000, 2);
    figures["blackbox.start.listing_s"] = figures["blackbox.listing.parallel_s"] as number;
    figures["blackbox.start.snapshot_app_cpu_s"] = round(second.cpuS, 2);
    figures["blackbox.start.snapshot_speedup"] = round(first.searchableMs / second.searchableMs, 2);
    await second.stop();

    process.stderr.write(`  the same over a bucket of ${small.length.toLocaleString("en-US")} keys…\n`);
    const smallEnv = envFor(tiny.endpoint, tiny.name, "small");
    const little = await startApp(smallEnv, small.length, output);
    apps.push(little);
    await settled(little.baseUrl, smallEnv.HANDOUT_INDEX_SNAPSHOT as string);
    figures["blackbox.rss_small_bucket.growth_mb"] = round(
      rssMb(little.child.pid as number) - little.rssAtUpMb,
    );
    const narrow = await typeAhead(little.baseUrl, slack, kinds, count);
    for (const [kind, { p50, p99, options }] of Object.entries(narrow)) {
      figures[`blackbox.typeahead_small_bucket.${kind}.p50_ms`] = p50;
      figures[`blackbox.typeahead_small_bucket.${kind}.p99_ms`] = p99;
      figures[`blackbox.typeahead_small_bucket.${kind}.options`] = options;
      figures[`blackbox.typeahead.${kind}.p99_vs_baseline`] = round(
        (broad[kind]?.p99 ?? Number.NaN) / Math.max(0.01, p99),
        2,
      );
    }
    const fixed = broad.nothing?.p50 ?? Number.NaN;
    for (const [kind, { p50 }] of Object.entries(broad)) {
      if (kind !== "nothing")
        figures[`blackbox.typeahead.${kind}.p50_vs_fixed_cost`] = round(p50 / Math.max(0.01, fixed), 2);
    }
    await little.stop();
  } finally {
    for (const app of apps) await app.stop();
    await slack.stop();
    await large.stop();
    await tiny.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
