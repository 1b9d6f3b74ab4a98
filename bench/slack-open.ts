import * as diagnostics from "node:diagnostics_channel";
import { mkdtemp, writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { App, HTTPReceiver } from "@slack/bolt";
import type { ModalView } from "@slack/types";
import { startHandout } from "../src/app/server.js";
import { createLogger } from "../src/logger.js";
import { makeKeyPair } from "../test/support/keys.js";
import { startTestBucket } from "../test/support/s3.js";

const SECRET = "bench-signing-secret";
const IN_FLIGHT = 20;
/** Commands per app per round; rounds alternate the apps, so each meets the same conditions. */
const COMMANDS = 400;
const ROUNDS = 3;

/** The p-th percentile of sorted values, to 0.1 ms. */
const percentile = (sorted: number[], p: number): number =>
  Number(
    (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN).toFixed(1),
  );

/** A TypeScript module on a thread of its own, and the next message of a type it posts. */
function startThread(module: string) {
  const worker = new Worker(new URL("./tsx-worker.mjs", import.meta.url), {
    workerData: { module: new URL(module, import.meta.url).href },
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const listener = (message: { type: string }) => {
        if (message.type !== type) return;
        worker.off("message", listener);
        worker.off("error", reject);
        resolve(message as T);
      };
      worker.on("message", listener);
      worker.once("error", reject);
    });
  return { worker, next };
}

interface SlackThread {
  readonly apiUrl: string;
  readonly token: string;
  stop(): Promise<void>;
}

async function startSlackThread(): Promise<SlackThread> {
  const { worker, next } = startThread("./slack-double-worker.ts");
  const ready = await next<{ apiUrl: string; token: string }>("ready");
  return {
    ...ready,
    async stop() {
      const stopped = next("stopped");
      worker.postMessage({ type: "stop" });
      await stopped;
      await worker.terminate();
    },
  };
}

interface LoadJob {
  readonly baseUrl: string;
  readonly count: number;
  /** Default "/share". */
  readonly command?: string;
  /** Each command from a person Handout's directory has not met (default: all from one person). */
  readonly newcomers?: boolean;
}

interface LoadThread {
  /** Sends the commands; when each was sent, by trigger_id (ms since the epoch). */
  send(job: LoadJob): Promise<Map<string, number>>;
  stop(): Promise<number>;
}

async function startLoadThread(): Promise<LoadThread> {
  const { worker, next } = startThread("./slack-load-worker.ts");
  await next("ready");
  return {
    async send(job) {
      const done = next<{ failed: number; sentAt: [string, number][] }>("done");
      worker.postMessage({ command: "/share", ...job, signingSecret: SECRET, inFlight: IN_FLIGHT });
      const { failed, sentAt } = await done;
      if (failed > 0) throw new Error(`${failed} of ${job.count} commands were not acknowledged with 200`);
      return new Map(sentAt);
    },
    stop: () => worker.terminate(),
  };
}

type WebApiCall = { method: string; body: unknown };
const listeners = new Set<(call: WebApiCall) => void>();

/**
 * Notes the moment the apps in this process send a Web API request: the Slack double's own queueing
 * (on its thread) is not the app's latency. The Web API client takes `fetch` when it is created, so
 * this is installed before any app is.
 */
function watchWebApiCalls(): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const method =
      String(input instanceof Request ? input.url : input)
        .split("/")
        .at(-1) ?? "";
    for (const listener of listeners) listener({ method, body: init?.body });
    return original(input, init);
  };
  return () => {
    globalThis.fetch = original;
  };
}

interface Latencies {
  /** From arrival at the app's HTTP server (headers parsed: `http.server.request.start`) to views.open. */
  readonly fromArrival: number[];
  /**
   * From the moment the load thread sent the command to views.open. Adds loopback HTTP and the time a
   * request waits in the socket while the app's thread is busy with the commands ahead of it.
   */
  readonly fromSend: number[];
}

const now = () => performance.timeOrigin + performance.now();

/**
 * Has the load thread send `count` slash commands, `IN_FLIGHT` at a time, and times each from its
 * arrival (and from its sending) to the app's views.open call for its trigger.
 */
async function measure(load: LoadThread, job: LoadJob): Promise<Latencies> {
  const count = job.count;
  const arrivedAt = new Map<string, number>();
  const openedAt = new Map<string, number>();
  const onArrival = (message: unknown) => {
    const trigger = (message as { request: IncomingMessage }).request.headers["x-bench-trigger"];
    if (typeof trigger === "string") arrivedAt.set(trigger, now());
  };
  diagnostics.subscribe("http.server.request.start", onArrival);
  const onCall = ({ method, body }: WebApiCall) => {
    if (method !== "views.open") return;
    // A regular expression, not URLSearchParams: the watch should cost the app next to nothing.
    const encoded = /(?:^|&)trigger_id=([^&]*)/.exec(String(body))?.[1];
    const trigger = encoded === undefined ? undefined : decodeURIComponent(encoded);
    if (trigger && arrivedAt.has(trigger)) openedAt.set(trigger, now());
  };
  listeners.add(onCall);
  let sentAt: Map<string, number>;
  try {
    sentAt = await load.send(job);
    for (let i = 0; i < 500 && openedAt.size < count; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // Let the follow-up work of the last commands finish before the next round.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    diagnostics.unsubscribe("http.server.request.start", onArrival);
    listeners.delete(onCall);
  }
  if (openedAt.size < count) throw new Error(`only ${openedAt.size} of ${count} commands opened a modal`);
  const since = (start: Map<string, number>) =>
    [...openedAt].map(([trigger, at]) => at - (start.get(trigger) as number));
  return { fromArrival: since(arrivedAt), fromSend: since(sentAt) };
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

/**
 * From a slash command's arrival to the views.open call, with 20 commands in flight from a load thread
 * (Slack's side) and the Slack double on a thread of its own. Handout against two bare Bolt apps whose
 * listener only acknowledges and opens a modal: an empty one (the framework's floor) and Handout's own
 * form, captured from its answer (the same Slack payload without Handout's work).
 */
export async function run(): Promise<Record<string, number>> {
  const unwatch = watchWebApiCalls();
  const bucket = await startTestBucket("handout-bench");
  await Promise.all(Array.from({ length: 200 }, (_, i) => bucket.put(`reports/2026/report ${i}.pdf`)));
  const slack = await startSlackThread();
  const load = await startLoadThread();
  const pair = makeKeyPair();
  const dir = await mkdtemp(join(tmpdir(), "handout-bench-"));
  await writeFile(join(dir, "private_key.pem"), pair.privatePem);
  await writeFile(
    join(dir, "access.yml"),
    "rules:\n  - who: { groups: [finance] }\n    prefixes: [reports/]\n",
  );
  Object.assign(process.env, bucket.env);
  const handout = await startHandout(
    {
      ...bucket.env,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
      CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
      CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
      CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
      HANDOUT_POLICY_FILE: join(dir, "access.yml"),
      HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
    },
    createLogger("silent"),
  );
  await handout.index.refresh();

  const bare = new App({
    token: slack.token,
    receiver: new HTTPReceiver({ signingSecret: SECRET }),
    botId: "BBOT",
    botUserId: "UBOT",
    clientOptions: { slackApiUrl: slack.apiUrl },
  });
  bare.command("/share", async ({ ack, client, command }) => {
    await ack();
    await client.views.open({
      trigger_id: command.trigger_id,
      view: { type: "modal", title: { type: "plain_text", text: "Share a file" }, blocks: [] },
    });
  });
  /** Handout's own form, as it sent it in the warm-up. */
  let handoutView: ModalView | undefined;
  bare.command("/share-same-view", async ({ ack, client, command }) => {
    await ack();
    await client.views.open({ trigger_id: command.trigger_id, view: handoutView as ModalView });
  });
  const bareServer = (await bare.start(0)) as unknown as { address(): AddressInfo };

  try {
    const handoutUrl = `http://127.0.0.1:${handout.port}`;
    const bareUrl = `http://127.0.0.1:${bareServer.address().port}`;
    // The first commands of a person the directory has not met open a placeholder: keep the form.
    const capture = ({ method, body }: WebApiCall) => {
      if (method !== "views.open") return;
      const view = JSON.parse(new URLSearchParams(String(body)).get("view") ?? "{}") as ModalView;
      if (view.blocks.some((block) => block.block_id === "files")) handoutView ??= view;
    };
    listeners.add(capture);
    await measure(load, { baseUrl: handoutUrl, count: 40 });
    await measure(load, { baseUrl: bareUrl, count: 40 });
    // By now Handout has looked the person up: these open the form at once.
    await measure(load, { baseUrl: handoutUrl, count: 40 });
    listeners.delete(capture);
    if (!handoutView) throw new Error("Handout never opened its share form in the warm-up");
    await measure(load, { baseUrl: bareUrl, count: 40, command: "/share-same-view" });
    const ours: Latencies[] = [];
    const floor: Latencies[] = [];
    const newcomers: Latencies[] = [];
    const sameView: Latencies[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await measure(load, { baseUrl: handoutUrl, count: COMMANDS }));
      newcomers.push(await measure(load, { baseUrl: handoutUrl, count: COMMANDS, newcomers: true }));
      sameView.push(await measure(load, { baseUrl: bareUrl, count: COMMANDS, command: "/share-same-view" }));
      floor.push(await measure(load, { baseUrl: bareUrl, count: COMMANDS }));
    }
    const pooled = (runs: Latencies[], which: keyof Latencies) => sorted(runs.flatMap((run) => run[which]));
    const figure = (runs: Latencies[], which: keyof Latencies, p: number) =>
      percentile(pooled(runs, which), p);
    const ratio = (a: number, b: number) => Number((a / Math.max(0.1, b)).toFixed(2));
    const report = (which: keyof Latencies, name: string): Record<string, number> => {
      const p99 = figure(ours, which, 99);
      const sameViewP99 = figure(sameView, which, 99);
      return {
        [`${name}.handout_p50_ms`]: figure(ours, which, 50),
        [`${name}.handout_p99_ms`]: p99,
        [`${name}.handout_newcomers_p50_ms`]: figure(newcomers, which, 50),
        [`${name}.handout_newcomers_p99_ms`]: figure(newcomers, which, 99),
        [`${name}.bare_bolt_same_view_p50_ms`]: figure(sameView, which, 50),
        [`${name}.bare_bolt_same_view_p99_ms`]: sameViewP99,
        [`${name}.bare_bolt_empty_view_p99_ms`]: figure(floor, which, 99),
        [`${name}.p99_vs_bare_bolt_same_view`]: ratio(p99, sameViewP99),
      };
    };
    return { ...report("fromArrival", "open"), ...report("fromSend", "open.from_send") };
  } finally {
    await bare.stop();
    await handout.stop();
    await load.stop();
    await slack.stop();
    await bucket.stop();
    unwatch();
  }
}
