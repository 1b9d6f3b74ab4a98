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
  opened(): Promise<{ trigger: string; at: number }[]>;
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
    async opened() {
      const answer = next<{ opened: { trigger: string; at: number }[] }>("opened");
      worker.postMessage({ type: "opened" });
      return (await answer).opened;
    },
    async stop() {
      const stopped = next("stopped");
      worker.postMessage({ type: "stop" });
      await stopped;
      await worker.terminate();
    },
  };
}

/** Sends `count` /share commands, `IN_FLIGHT` at a time; the time from each to its views.open. */
async function measure(baseUrl: string, slack: SlackThread, count: number): Promise<number[]> {
  const requests = slackRequests({ baseUrl, signingSecret: SECRET });
  const sentAt = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const trigger = requests.triggerId();
      sentAt.set(trigger, Date.now());
      await requests.command({
        user_id: "U0ANA",
        channel_id: "C0GENERAL",
        text: "report",
        trigger_id: trigger,
      });
    }
  };
  await slack.opened();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  // Let the last modals open, and their follow-up work finish, before the next round.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const opened = (await slack.opened()).filter((call) => sentAt.has(call.trigger));
  if (opened.length < count) throw new Error(`only ${opened.length} of ${count} commands opened a modal`);
  return opened.map((call) => call.at - (sentAt.get(call.trigger) as number)).sort((a, b) => a - b);
}

/**
 * From a slash command's arrival to the views.open call, with 20 commands in flight: Handout against a
 * bare Bolt app whose listener only acknowledges and opens a modal (the framework's own floor).
 */
export async function run(): Promise<Record<string, number>> {
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
  const bareServer = (await bare.start(0)) as unknown as { address(): AddressInfo };

  try {
    const handoutUrl = `http://127.0.0.1:${handout.port}`;
    const bareUrl = `http://127.0.0.1:${bareServer.address().port}`;
    await measure(handoutUrl, slack, 40);
    await measure(bareUrl, slack, 40);
    const ours = await measure(handoutUrl, slack, COMMANDS);
    const floor = await measure(bareUrl, slack, COMMANDS);
    return {
      "open.handout_p50_ms": percentile(ours, 50),
      "open.handout_p99_ms": percentile(ours, 99),
      "open.bare_bolt_p50_ms": percentile(floor, 50),
      "open.bare_bolt_p99_ms": percentile(floor, 99),
      "open.p99_vs_bare_bolt": Number((percentile(ours, 99) / Math.max(1, percentile(floor, 99))).toFixed(2)),
    };
  } finally {
    await bare.stop();
    await handout.stop();
    await slack.stop();
    await bucket.stop();
  }
}
