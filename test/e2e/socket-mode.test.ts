import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeKeyPath } from "../../src/domain/object-key.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import {
  buttonsOf,
  DAY,
  DOMAIN,
  filledView,
  flow,
  type Harness,
  startHarness,
} from "../support/handout-harness.js";
import { type SocketModeServer, shareCommandPayload, startSocketModeServer } from "../support/socket-mode.js";

/**
 * Socket Mode, the manifest's default: Handout started with SLACK_APP_TOKEN (and no signing secret)
 * asks the Slack double for a WebSocket URL, connects to a real WebSocket server there, and answers
 * Slack's envelopes on it: the whole share flow, with the Web API calls on loopback as in HTTP mode.
 */
describe("Socket Mode", () => {
  let socket: SocketModeServer;
  let h: Harness;

  beforeAll(async () => {
    socket = await startSocketModeServer();
    h = await startHarness({ SLACK_APP_TOKEN: "xapp-test", SLACK_SIGNING_SECRET: undefined }, (slack) => {
      slack.workspace.socketModeUrl = socket.url;
    });
    await socket.connected();
  });

  afterAll(async () => {
    await h?.stop();
    await socket?.stop();
  });

  const command = (text: string, trigger: string) =>
    shareCommandPayload(text, trigger, h.slack.responseUrl(`socket-${trigger}`));

  it("connects with the app token, through the Web API URL it is given", async () => {
    const [open] = h.slack.calls.filter((call) => call.method === "apps.connections.open");
    expect(open?.token).toBe("xapp-test");
    // Connected and greeted: Bolt's start resolves only after Slack's hello.
    expect(socket.connections).toBe(1);
    expect(socket.greeted).toBe(1);
  });

  it("shares a file: /share, the modal, a submission and the posted link, all over the socket", async () => {
    const trigger = "1001.1.socket-share";
    const ack = await socket.send("slash_commands", command("q1 2026.pdf", trigger));
    expect(ack.envelope_id).toBeTruthy();
    const opened = await h.slack.waitFor("views.open", (call) => call.args.trigger_id === trigger);
    const { view } = await filledView(h, opened);
    expect(JSON.stringify(view.blocks)).toContain("k:reports/q1 2026.pdf");

    // The type-ahead: Slack asks for options in an envelope, and they come back in its acknowledgement.
    const suggested = await socket.send(
      "interactive",
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "q2",
        view,
      }),
    );
    const options = (suggested.payload?.options ?? []) as { value: string }[];
    expect(options.map((o) => o.value).sort()).toEqual([
      "k:reports/2026/q2 draft.pdf",
      "k:reports/2026/q2.pdf",
    ]);

    const before = Date.now();
    const submitted = await socket.send(
      "interactive",
      flow(h).submission(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY }),
    );
    expect(submitted.payload).toMatchObject({ response_action: "update" });
    const posted = await h.slack.waitFor("chat.postMessage");
    expect(posted.token).toBe(h.slack.token);
    const [url] = buttonsOf(posted);
    expect(url?.startsWith(`https://${DOMAIN}/`)).toBe(true);
    expect(decodeKeyPath(new URL(url as string).pathname.slice(1))).toBe("reports/q1 2026.pdf");
    expect(
      verifySignedUrl(url as string, new Map([[h.pair.keyPairId, h.pair.publicKey]]), new Date()).ok,
    ).toBe(true);
    expect(Number(new URL(url as string).searchParams.get("Expires")) * 1000).toBeGreaterThanOrEqual(
      before + DAY * 1000 - 1000,
    );
  });

  it("answers /share help in the acknowledgement, and a bad submission inside the modal", async () => {
    const help = await socket.send("slash_commands", command("help", "1002.1.socket-help"));
    expect(help.payload).toMatchObject({ response_type: "ephemeral" });
    expect(String(help.payload?.text)).toContain("/share report");

    const trigger = "1003.1.socket-past";
    await socket.send("slash_commands", command("", trigger));
    const opened = await h.slack.waitFor("views.open", (call) => call.args.trigger_id === trigger);
    const { view } = await filledView(h, opened);
    const posts = h.slack.callsTo("chat.postMessage").length;
    const refused = await socket.send(
      "interactive",
      flow(h).submission(view, "U0ANA", {
        files: ["k:reports/q1 2026.pdf"],
        at: Math.floor(Date.now() / 1000) - 3600,
      }),
    );
    expect(refused.payload).toMatchObject({ response_action: "errors" });
    expect(Object.keys((refused.payload?.errors ?? {}) as object)).toEqual(["expiry_at"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(posts);
  });

  it("publishes App Home when Slack sends app_home_opened as an event envelope", async () => {
    const ack = await socket.send("events_api", {
      token: "legacy-verification-token",
      team_id: "T0001",
      api_app_id: "A0001",
      type: "event_callback",
      event_id: "Ev0SOCKET1",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "app_home_opened", user: "U0ANA", channel: "D0ANA", tab: "home", event_ts: "1.2" },
    });
    expect(ack.envelope_id).toBeTruthy();
    const published = await h.slack.waitFor("views.publish", (call) => call.args.user_id === "U0ANA");
    expect((published.args.view as { type: string }).type).toBe("home");
  });

  it("takes no Slack requests over HTTP: there is no signing secret to check them with", async () => {
    const response = await h.requests.command({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "" });
    expect(response.status).toBe(404);
    expect(
      h.slack.callsTo("views.open").filter((call) => !String(call.args.trigger_id).startsWith("100")),
    ).toEqual([]);
  });

  it("closes its connection when it stops", async () => {
    await h.handout.stop();
    await socket.disconnected();
    expect(socket.connections).toBe(0);
  });
});

describe("Socket Mode that cannot connect", () => {
  it.each([
    [
      "a wrong app token",
      "xapp-wrong",
      true,
      /Slack refused SLACK_APP_TOKEN \(invalid_auth\): create an app-level token/,
    ],
    [
      "the bot token in its place",
      "xoxb-test",
      true,
      /SLACK_APP_TOKEN.*must be an app-level token starting with xapp-/,
    ],
    [
      "Socket Mode off in the Slack app's settings",
      "xapp-test",
      false,
      /Slack would not open a Socket Mode connection \(socket_mode_disabled\): check that Socket Mode is on/,
    ],
  ])("stops start-up with what to fix, given %s", async (_, token, socketModeOn, message) => {
    const socket = await startSocketModeServer();
    try {
      await expect(
        startHarness({ SLACK_APP_TOKEN: token, SLACK_SIGNING_SECRET: undefined }, (slack) => {
          if (socketModeOn) slack.workspace.socketModeUrl = socket.url;
        }),
      ).rejects.toThrow(message);
      expect(socket.connections).toBe(0);
    } finally {
      await socket.stop();
    }
  });

  it("says Slack is busy, not that the token is wrong, when Slack answers 429 or 5xx", async () => {
    for (const fault of [{ status: 429, retryAfter: 1 }, { status: 503 }]) {
      await expect(
        startHarness({ SLACK_APP_TOKEN: "xapp-test", SLACK_SIGNING_SECRET: undefined }, (slack) => {
          slack.failNext("apps.connections.open", fault);
        }),
      ).rejects.toThrow(/Slack is busy and would not open a Socket Mode connection now/);
    }
  });
});
