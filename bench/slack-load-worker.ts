import { Agent, request } from "node:http";
import { parentPort } from "node:worker_threads";
import { slackRequests } from "../test/support/slack-requests.js";

/**
 * Slack's side of the benchmark on a thread of its own, kept for the whole run so that it is warm: for
 * each job it sends `count` slash commands, `inFlight` at a time over kept-alive connections, signed as
 * Slack signs them. Each carries its trigger_id in an `x-bench-trigger` header too, so the app's thread
 * can note its arrival before the body is read; this thread reports when it sent each. Plain
 * `node:http`: fetch costs this thread several times more.
 */
interface Job {
  readonly baseUrl: string;
  readonly signingSecret: string;
  readonly count: number;
  readonly inFlight: number;
  readonly command: string;
  /** Every command from a person not seen before (`U1000000`, `U1000001`, …), else all from U0ANA. */
  readonly newcomers?: boolean;
}

function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * One pool of connections per app for the thread's life: the warm-up opens them, as a load balancer in
 * front of the app keeps its connections open. A fresh pool per job would time twenty connections
 * being accepted at once, which a Node server takes one event-loop turn each for.
 */
const agents = new Map<string, Agent>();

let newcomer = 0;

async function run({ baseUrl, signingSecret, count, inFlight, command, newcomers }: Job) {
  const requests = slackRequests({ baseUrl, signingSecret });
  const agent = agents.get(baseUrl) ?? new Agent({ keepAlive: true, maxSockets: inFlight });
  agents.set(baseUrl, agent);
  const url = new URL("/slack/events", baseUrl);
  let next = 0;
  let failed = 0;
  /** When each command left this thread, in ms since the epoch (comparable across threads). */
  const sentAt: [string, number][] = [];
  const sender = async () => {
    while (next < count) {
      next++;
      const trigger = requests.triggerId();
      const body = requests.commandBody({
        command,
        user_id: newcomers ? `U1${String(newcomer++).padStart(6, "0")}` : "U0ANA",
        channel_id: "C0GENERAL",
        text: "report",
        trigger_id: trigger,
      });
      const headers = {
        ...requests.sign(body),
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(Buffer.byteLength(body)),
        "x-bench-trigger": trigger,
      };
      sentAt.push([trigger, performance.timeOrigin + performance.now()]);
      if ((await post(agent, url, body, headers)) !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
  return { failed, sentAt };
}

parentPort?.on("message", async (job: Job) => {
  parentPort?.postMessage({ type: "done", ...(await run(job)) });
});
parentPort?.postMessage({ type: "ready" });
