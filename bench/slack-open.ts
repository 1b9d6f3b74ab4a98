import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { App, HTTPReceiver } from "@slack/bolt";
import { createLogger } from "../src/logger.js";
import { startHandout } from "../src/server.js";
import { makeKeyPair } from "../test/support/keys.js";
import { startTestBucket } from "../test/support/s3.js";
import { slackRequests } from "../test/support/slack-requests.js";

const SECRET = "bench-signing-secret";
const IN_FLIGHT = 20;
const COMMANDS = 400;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

interface SlackThread {
  readonly apiUrl: string;
  readonly token: string;
  stop(): Promise<void>;
}

async function startSlackThread(): Promise<SlackThread> {
  const worker = new Worker(new URL("./tsx-worker.mjs", import.meta.url), {
    workerData: { module: new URL("./slack-double-worker.ts", import.meta.url).href },
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: { type: string }) => {
        if (message.type === type) {
          worker.off("message", listener);
          resolve(message as T);
        }
      };
      worker.on("message", listener);
    });
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

/** Sends `count` /share commands, `IN_FLIGHT` at a time; the time from each to its views.open. */
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

async function measure(baseUrl: string, count: number, command = "/share"): Promise<number[]> {
  const requests = slackRequests({ baseUrl, signingSecret: SECRET });
  const sentAt = new Map<string, number>();
  const openedAt = new Map<string, number>();
  listeners.add(({ method, body }) => {
    if (method !== "views.open") return;
    const trigger = new URLSearchParams(String(body)).get("trigger_id");
    if (trigger && sentAt.has(trigger)) openedAt.set(trigger, Date.now());
  });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const trigger = requests.triggerId();
      sentAt.set(trigger, Date.now());
      await requests.command({
        command,
        user_id: "U0ANA",
        channel_id: "C0GENERAL",
        text: "report",
        trigger_id: trigger,
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    for (let i = 0; i < 500 && openedAt.size < count; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // Let the follow-up work of the last commands finish before the next round.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    listeners.clear();
  }
  if (openedAt.size < count) throw new Error(`only ${openedAt.size} of ${count} commands opened a modal`);
  return [...openedAt].map(([trigger, at]) => at - (sentAt.get(trigger) as number)).sort((a, b) => a - b);
}

/**
 * From a slash command's arrival to the views.open call, with 20 commands in flight: Handout against a
 * bare Bolt app whose listener only acknowledges and opens a modal (the framework's own floor), and one
 * that also updates the modal afterwards, as Handout does (the same Slack calls, none of Handout's work).
 */
export async function run(): Promise<Record<string, number>> {
  const unwatch = watchWebApiCalls();
  const bucket = await startTestBucket("handout-bench");
  await Promise.all(Array.from({ length: 200 }, (_, i) => bucket.put(`reports/2026/report ${i}.pdf`)));
  const slack = await startSlackThread();
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
  bare.command("/share-and-update", async ({ ack, client, command }) => {
    await ack();
    const opened = await client.views.open({
      trigger_id: command.trigger_id,
      view: { type: "modal", title: { type: "plain_text", text: "Share a file" }, blocks: [] },
    });
    await client.views.update({
      view_id: opened.view?.id as string,
      view: {
        type: "modal",
        title: { type: "plain_text", text: "Share a file" },
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "Ready." } }],
      },
    });
  });
  const bareServer = (await bare.start(0)) as unknown as { address(): AddressInfo };

  try {
    const handoutUrl = `http://127.0.0.1:${handout.port}`;
    const bareUrl = `http://127.0.0.1:${bareServer.address().port}`;
    await measure(handoutUrl, 40);
    await measure(bareUrl, 40);
    const ours = await measure(handoutUrl, COMMANDS);
    const floor = await measure(bareUrl, COMMANDS);
    const sameCalls = await measure(bareUrl, COMMANDS, "/share-and-update");
    return {
      "open.handout_p50_ms": percentile(ours, 50),
      "open.handout_p99_ms": percentile(ours, 99),
      "open.bare_bolt_p50_ms": percentile(floor, 50),
      "open.bare_bolt_p99_ms": percentile(floor, 99),
      "open.p99_vs_bare_bolt": Number((percentile(ours, 99) / Math.max(1, percentile(floor, 99))).toFixed(2)),
      "open.bare_bolt_open_and_update_p50_ms": percentile(sameCalls, 50),
      "open.bare_bolt_open_and_update_p99_ms": percentile(sameCalls, 99),
      "open.p99_vs_bare_open_and_update": Number(
        (percentile(ours, 99) / Math.max(1, percentile(sameCalls, 99))).toFixed(2),
      ),
    };
  } finally {
    await bare.stop();
    await handout.stop();
    await slack.stop();
    await bucket.stop();
    unwatch();
  }
}
