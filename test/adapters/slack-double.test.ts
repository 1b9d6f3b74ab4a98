import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, LogLevel, webApi } from "@slack/bolt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { type SlackRequests, slackRequests } from "../support/slack-requests.js";

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

  it("refuses blocks beyond Slack's limits on every method, counting text after escaping &, < and >", async () => {
    const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
    const refused = async (call: Promise<unknown>, error: string, pointer?: string) => {
      const failure = (await call.then(
        () => undefined,
        (e: { data?: unknown }) => e.data,
      )) as { error?: string; response_metadata?: { messages?: string[] } } | undefined;
      expect(failure?.error).toBe(error);
      if (pointer) expect(failure?.response_metadata?.messages?.[0]).toContain(`[json-pointer:${pointer}]`);
    };
    const post = (blocks: unknown[]) =>
      client.chat.postMessage({ channel: "U1", text: "t", blocks } as never);
    double.workspace.channels.get("C1")?.members.push("UBOT");

    // 600 bare "&" are 3,000 characters once escaped; the same text pre-escaped counts the same.
    await post([section("x".repeat(3000))]);
    await refused(post([section(`${"&".repeat(600)}!`)]), "invalid_blocks", "/blocks/0/text/text");
    await refused(post([section(`${"&amp;".repeat(600)}!`)]), "invalid_blocks", "/blocks/0/text/text");
    await refused(
      post([{ type: "context", elements: [{ type: "mrkdwn", text: "y".repeat(3001) }] }]),
      "invalid_blocks",
      "/blocks/0/elements/0/text",
    );
    await refused(post(Array.from({ length: 51 }, () => section("a"))), "invalid_blocks", "/blocks");
    await refused(
      post([{ type: "header", text: { type: "plain_text", text: "<".repeat(38) } }]),
      "invalid_blocks",
      "/blocks/0/text/text",
    );
    const button = (text: string, confirm?: string) => ({
      ...section("file"),
      accessory: {
        type: "button",
        text: { type: "plain_text", text },
        action_id: "b",
        ...(confirm
          ? {
              confirm: {
                title: { type: "plain_text", text: "Sure?" },
                text: { type: "mrkdwn", text: confirm },
                confirm: { type: "plain_text", text: "Yes" },
                deny: { type: "plain_text", text: "No" },
              },
            }
          : {}),
      },
    });
    await refused(post([button("b".repeat(76))]), "invalid_blocks", "/blocks/0/accessory/text/text");
    await refused(
      post([button("ok", "c".repeat(301))]),
      "invalid_blocks",
      "/blocks/0/accessory/confirm/text/text",
    );
    // Each block within its limits, and 12,000+ characters in all.
    await refused(post(Array.from({ length: 5 }, () => section("z".repeat(2500)))), "msg_blocks_too_long");
    const posted = await post([section("a")]);
    await refused(
      client.chat.update({
        channel: posted.channel as string,
        ts: posted.ts as string,
        blocks: [section("&".repeat(601))],
      } as never),
      "invalid_blocks",
    );
    await refused(
      client.chat.postEphemeral({
        channel: "C1",
        user: "U1",
        text: "t",
        blocks: [section("&".repeat(601))],
      } as never),
      "invalid_blocks",
    );

    const select = (text: string, value: string) => ({
      type: "input",
      label: { type: "plain_text", text: "Pick" },
      element: {
        type: "static_select",
        action_id: "s",
        options: [{ text: { type: "plain_text", text }, value }],
      },
    });
    const open = (blocks: unknown[]) =>
      client.views.open({ trigger_id: `1.${Math.random()}`, view: { ...modal, blocks } } as never);
    await open([select("o".repeat(75), "v".repeat(150))]);
    await refused(
      open([select("&".repeat(16), "v")]),
      "invalid_arguments",
      "/view/blocks/0/element/options/0/text/text",
    );
    await refused(
      open([select("o", "v".repeat(151))]),
      "invalid_arguments",
      "/view/blocks/0/element/options/0/value",
    );
    await refused(open(Array.from({ length: 101 }, () => section("a"))), "invalid_arguments", "/view/blocks");
    const opened = await open([section("fine")]);
    await refused(
      client.views.update({
        view_id: opened.view?.id as string,
        view: { ...modal, blocks: [section("&".repeat(601))] },
      } as never),
      "invalid_arguments",
    );
    await refused(
      client.views.push({
        trigger_id: "2.push",
        view: { ...modal, blocks: [section("&".repeat(601))] },
      } as never),
      "invalid_arguments",
    );
    const home = (blocks: unknown[]) =>
      client.views.publish({ user_id: "U1", view: { type: "home", blocks } } as never);
    expect((await home([section("mine")])).ok).toBe(true);
    await refused(home([section("&".repeat(601))]), "invalid_arguments", "/view/blocks/0/text/text");

    const viaResponseUrl = (blocks: unknown[]) =>
      fetch(double.responseUrl("r1"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "t", blocks }),
      });
    expect((await viaResponseUrl([section("a")])).status).toBe(200);
    const tooLong = await viaResponseUrl(Array.from({ length: 5 }, () => section("z".repeat(2500))));
    expect([tooLong.status, await tooLong.text()]).toEqual([400, "msg_blocks_too_long"]);
  });

  it("takes five messages at a response URL, and none after 30 minutes, as Slack does", async () => {
    let ms = 0;
    const timed = await startSlackDouble({ monotonicMs: () => ms });
    try {
      const post = (id: string) =>
        fetch(timed.responseUrl(id), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "t" }),
        }).then(async (response) => [response.status, await response.text()]);
      for (let i = 0; i < 5; i++) expect(await post("five")).toEqual([200, "ok"]);
      expect(await post("five")).toEqual([404, "used_url"]);
      // The 30 minutes run from when Slack handed the URL out, not from its first use.
      const late = timed.responseUrl("late");
      ms += 30 * 60_000 - 1;
      expect(await post("late")).toEqual([200, "ok"]);
      ms += 2;
      expect(await post("late")).toEqual([404, "expired_url"]);
      expect(await post("fresh")).toEqual([200, "ok"]);
      // Handing the same URL out again does not start its 30 minutes again (post() asks for it anew).
      expect(timed.responseUrl("late")).toBe(late);
      expect(await post("late")).toEqual([404, "expired_url"]);
    } finally {
      await timed.stop();
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
