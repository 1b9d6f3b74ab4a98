import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MetadataSeal } from "../../src/slack/metadata.js";
import {
  filledView,
  type Harness,
  SIGNING_SECRET,
  type Steps,
  useHarness,
} from "../support/handout-harness.js";

let h: Harness;
let steps: Steps;
useHarness(
  (ready) => {
    ({ h, steps } = ready);
  },
  { LOG_LEVEL: "debug" },
);

/** A server that is not Slack, on loopback: any request it receives is a link sent out of Slack. */
let elsewhere: Server;
let elsewhereUrl: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  elsewhere = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += String(chunk);
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", body });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => elsewhere.close(resolve));
});

beforeEach(() => {
  received.length = 0;
});

const SECRET_PATH = "/commands/T0001/1234/not-for-logs";

/** /share typed in a channel Handout is not in, with a response URL pointing away from Slack. */
async function shareWithForeignResponseUrl(user: string) {
  const since = h.slack.calls.length;
  await h.requests.command({
    user_id: user,
    channel_id: "C0QUIET",
    text: "",
    response_url: `${elsewhereUrl}${SECRET_PATH}`,
  });
  return filledView(h, await h.slack.waitFor("views.open", (call) => h.slack.calls.indexOf(call) >= since));
}

describe("response URLs", () => {
  it("posts a share to no response URL outside Slack, and logs only its host", async () => {
    const { view } = await shareWithForeignResponseUrl("U0ANA");
    await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    expect(await steps.outcome(view)).toContain("/invite @Handout");
    expect(received).toEqual([]);
    const refused = h.logs.lines().find((line) => String(line.msg).startsWith("refused a response URL"));
    expect(refused).toMatchObject({ level: 40, host: new URL(elsewhereUrl).host });
    expect(h.logs.text()).not.toContain("not-for-logs");
  });

  it("follows no redirect from a response URL: the links go only where the URL that was checked points", async () => {
    h.slack.respond("response_url:redirect-away", () => ({
      status: 307,
      headers: { location: `${elsewhereUrl}${SECRET_PATH}` },
      body: "",
    }));
    await h.requests.command({
      user_id: "U0ANA",
      channel_id: "C0QUIET",
      text: "",
      response_url: h.slack.responseUrl("redirect-away"),
    });
    const { view } = await filledView(h, await h.slack.waitFor("views.open"));
    await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    expect(await steps.outcome(view)).toContain("nothing was posted");
    expect(h.slack.callsTo("response_url:redirect-away")).toHaveLength(1);
    expect(received).toEqual([]);
  });

  it("does not answer a dialog that failed to open through a response URL outside Slack", async () => {
    h.slack.failNext("views.open", { error: "expired_trigger_id" });
    await h.requests.command({
      user_id: "U0ANA",
      channel_id: "C0QUIET",
      text: "",
      response_url: `${elsewhereUrl}${SECRET_PATH}`,
    });
    // The same failure with Slack's response URL is answered there; by then the first would have been.
    h.slack.failNext("views.open", { error: "expired_trigger_id" });
    await h.requests.command({
      user_id: "U0ANA",
      channel_id: "C0QUIET",
      text: "",
      response_url: h.slack.responseUrl("slack-own"),
    });
    const answered = await h.slack.waitFor("response_url:slack-own");
    expect(answered.args.text).toContain("Type /share again");
    expect(received).toEqual([]);
    expect(h.logs.text()).not.toContain("not-for-logs");
  });

  it("refuses a sealed response URL outside Slack even when the seal is genuine", async () => {
    // Whoever holds the signing secret can seal a form; the URL is checked again before posting.
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const viewRef = h.slack.views.get(view.id)?.external_id as string;
    const forged = new MetadataSeal(SIGNING_SECRET).seal({
      userId: "U0ANA",
      viewRef,
      channelId: "C0QUIET",
      responseUrl: `${elsewhereUrl}${SECRET_PATH}`,
      query: "",
    });
    await steps.submit(
      view,
      "U0ANA",
      { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET", how: "ephemeral" },
      forged,
    );
    expect(await steps.outcome(view)).toContain("Sent the file to you in your messages with Handout");
    expect(received).toEqual([]);
    expect(h.slack.callsTo("chat.postMessage")[0]?.args.channel).toBe("U0ANA");
  });

  it("keeps a response URL out of the modal's metadata and out of every log line, even at debug level", async () => {
    const { view, responseUrlId } = await steps.share("U0ANA", "C0QUIET");
    await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    await h.slack.waitFor(`response_url:${responseUrlId}`);
    expect(await steps.outcome(view)).toContain("Shared the file in <#C0QUIET>");

    const text = h.logs.text();
    expect(text).toContain('"level":20'); // debug lines were written
    expect(text).not.toContain(responseUrlId);
    // Nor hidden in any encoded run of characters, such as private_metadata in a logged payload.
    for (const run of text.match(/[A-Za-z0-9_-]{40,}/g) ?? []) {
      expect(Buffer.from(run, "base64url").toString("latin1")).not.toContain(responseUrlId);
    }
    expect(view.private_metadata).not.toContain(responseUrlId);
  });
});
