import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, LogLevel, webApi } from "@slack/bolt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SlackDouble, startSlackDouble } from "./support/slack-double.js";
import { type SlackRequests, slackRequests } from "./support/slack-requests.js";

// Bolt re-exports @slack/web-api as `webApi`: this is the WebClient the app itself uses.
const { WebClient } = webApi;

const modal = {
  type: "modal" as const,
  callback_id: "share",
  private_metadata: JSON.stringify({ channel: "C1" }),
  title: { type: "plain_text" as const, text: "Share a file" },
  blocks: [{ type: "section" as const, text: { type: "mrkdwn" as const, text: "Pick a *file*" } }],
};

describe("Slack Web API double", () => {
  let double: SlackDouble;
  let client: InstanceType<typeof WebClient>;

  beforeAll(async () => {
    double = await startSlackDouble();
    client = new WebClient(double.token, {
      slackApiUrl: double.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const { channels, users } = double.workspace;
    users.set("U1", { id: "U1", name: "ada" });
    channels.set("C1", { id: "C1", name: "general", members: ["U1", "U2", "U3", "U4", "U5"] });
    channels.set("G1", { id: "G1", name: "secret", is_private: true, members: ["U1"] });
  });
  afterAll(() => double.stop());
  afterEach(() => double.reset());

  it("records a views.open with its view parsed back into an object, and answers with the stored view", async () => {
    const result = await client.views.open({ trigger_id: "1.2.abc", view: modal });

    const call = await double.waitFor("views.open");
    expect(call.token).toBe("xoxb-test");
    expect(call.args).toEqual({ trigger_id: "1.2.abc", view: modal });
    expect(result.view?.id).toMatch(/^V/);
    expect(result.view?.hash).toMatch(/^h/);
    expect(result.view?.private_metadata).toBe(modal.private_metadata);
    expect(double.views.get(result.view?.id ?? "")?.callback_id).toBe("share");
    // A trigger works once, as in Slack.
    await expect(client.views.open({ trigger_id: "1.2.abc", view: modal })).rejects.toMatchObject({
      data: { ok: false, error: "exchanged_trigger_id" },
    });
  });

  it("pages conversations.members with cursors", async () => {
    const first = await client.conversations.members({ channel: "C1", limit: 2 });
    const second = await client.conversations.members({
      channel: "C1",
      limit: 2,
      cursor: first.response_metadata?.next_cursor ?? "",
    });
    const third = await client.conversations.members({
      channel: "C1",
      limit: 2,
      cursor: second.response_metadata?.next_cursor ?? "",
    });

    expect([first.members, second.members, third.members]).toEqual([["U1", "U2"], ["U3", "U4"], ["U5"]]);
    expect(first.response_metadata?.next_cursor).not.toBe("");
    expect(third.response_metadata?.next_cursor).toBe("");
    expect(double.callsTo("conversations.members").map((call) => call.args.limit)).toEqual(["2", "2", "2"]);
  });

  it("refuses to post where the bot is not a member, as Slack does", async () => {
    await expect(client.chat.postMessage({ channel: "C1", text: "hello" })).rejects.toMatchObject({
      code: "slack_webapi_platform_error",
      data: { ok: false, error: "not_in_channel" },
    });
    await expect(client.chat.postMessage({ channel: "G1", text: "hello" })).rejects.toMatchObject({
      data: { error: "channel_not_found" },
    });
    const dm = await client.chat.postMessage({ channel: "U1", text: "hello" });
    expect(dm.channel).toMatch(/^D/);
    expect(double.messages.map((message) => message.text)).toEqual(["hello"]);
  });

  it("answers a 429 with Retry-After once, and the WebClient's retry then succeeds", async () => {
    const retrying = new WebClient(double.token, {
      slackApiUrl: double.apiUrl,
      retryConfig: { retries: 2 },
      logLevel: LogLevel.ERROR,
    });
    double.failNext("users.info", { status: 429, retryAfter: 1 });

    const result = await retrying.users.info({ user: "U1" });

    expect(result.user?.name).toBe("ada");
    const attempts = double.callsTo("users.info");
    expect(attempts.map((call) => call.response?.status)).toEqual([429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("takes the app-level token for apps.connections.open only, and hands out the Socket Mode URL", async () => {
    const app = new WebClient(double.appToken, {
      slackApiUrl: double.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    await expect(app.apps.connections.open()).rejects.toMatchObject({
      data: { error: "socket_mode_disabled" },
    });
    double.workspace.socketModeUrl = "ws://127.0.0.1:9/link/";
    try {
      expect((await app.apps.connections.open()).url).toBe("ws://127.0.0.1:9/link/");
      await expect(client.apps.connections.open()).rejects.toMatchObject({
        data: { error: "not_allowed_token_type" },
      });
      await expect(app.chat.postMessage({ channel: "C1", text: "hi" })).rejects.toMatchObject({
        data: { error: "not_allowed_token_type" },
      });
    } finally {
      delete double.workspace.socketModeUrl;
    }
  });

  it("rejects waitFor with a clear message when the call never comes", async () => {
    await expect(double.waitFor("pins.add", undefined, 50)).rejects.toThrow(/no pins\.add call within 50 ms/);
  });
});

describe("signed requests to a Bolt app", () => {
  const signingSecret = "test-signing-secret";
  let double: SlackDouble;
  let app: App;
  let server: Server;
  let slack: SlackRequests;

  beforeAll(async () => {
    double = await startSlackDouble();
    app = new App({
      token: double.token,
      signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: double.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command("/share", async ({ ack, command, client }) => {
      await ack();
      await client.views.open({ trigger_id: command.trigger_id, view: modal });
    });
    app.options("file", async ({ ack, payload }) => {
      await ack({ options: [{ text: { type: "plain_text", text: payload.value }, value: payload.value }] });
    });
    app.view("share", async ({ ack, view }) => {
      await ack({ response_action: "errors", errors: { file: `got ${view.private_metadata}` } });
    });
    server = (await app.start({ port: 0, host: "127.0.0.1" })) as Server;
    slack = slackRequests({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      signingSecret,
      responseUrl: (id) => double.responseUrl(id),
    });
  });
  afterAll(async () => {
    await app.stop();
    await double.stop();
  });

  it("delivers a slash command that Bolt accepts, with a trigger the app can open a modal with", async () => {
    const response = await slack.command({
      text: "reports/",
      user_id: "U1",
      channel_id: "C1",
      trigger_id: "9.9.x",
    });

    expect(response.status).toBe(200);
    const open = await double.waitFor("views.open", (call) => call.args.trigger_id === "9.9.x");
    expect(open.args.view).toMatchObject({ callback_id: "share" });
  });

  it("delivers a block_suggestion and returns the options Bolt acked", async () => {
    const response = await slack.options(
      slack.blockSuggestion({ user: "U1", action_id: "file", value: "rep", view: { callback_id: "share" } }),
    );

    expect(response).toMatchObject({ status: 200, body: { options: [{ value: "rep" }] } });
  });

  it("delivers a view_submission and returns Bolt's response_action", async () => {
    const response = await slack.interaction(
      slack.viewSubmission({ user: "U1", view: { callback_id: "share", private_metadata: "meta" } }),
    );

    expect(response.body).toEqual({ response_action: "errors", errors: { file: "got meta" } });
  });

  it("lets a test forge requests that Bolt refuses", async () => {
    const body = slack.commandBody({ user_id: "U1", channel_id: "C1", trigger_id: "forge.1" });
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;

    const forged = await slack.rawPost(body, { ...slack.sign(body), "x-slack-signature": "v0=00" });
    const old = await slack.rawPost(body, slack.sign(body, stale));
    const genuine = await slack.rawPost(body, slack.sign(body));

    expect([forged.status, old.status, genuine.status]).toEqual([401, 401, 200]);
    await double.waitFor("views.open", (call) => call.args.trigger_id === "forge.1");
    expect(double.callsTo("views.open").filter((call) => call.args.trigger_id === "forge.1")).toHaveLength(1);
  });
});
