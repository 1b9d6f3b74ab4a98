import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetadataSeal } from "../../src/slack/metadata.js";
import { DAY, flow, type Harness, startHarness, type View } from "../support/handout-harness.js";
import {
  delay,
  type SocketModeServer,
  shareCommandPayload,
  startSocketModeServer,
  until,
} from "../support/socket-mode.js";

/**
 * The life of the Socket Mode connection, driven by the Socket Mode double as Slack drives it: refreshes,
 * drops and a revoked app token, with envelopes in flight; and what /healthz says meanwhile, by a clock
 * the test moves.
 */

describe("a Socket Mode connection that is always there", () => {
  let socket: SocketModeServer;
  let h: Harness;

  beforeAll(async () => {
    socket = await startSocketModeServer();
    h = await startHarness(
      { SLACK_APP_TOKEN: "xapp-test", SLACK_SIGNING_SECRET: undefined, HANDOUT_SOCKET_DOWN_LIMIT: "60s" },
      (slack) => {
        slack.workspace.socketModeUrl = socket.url;
        slack.workspace.channels.get("C0GENERAL")?.members.push("U0DAN");
      },
    );
    await socket.connected();
  });

  afterAll(async () => {
    await h?.stop();
    await socket?.stop();
  });

  const command = (text: string, trigger: string) =>
    shareCommandPayload(text, trigger, h.slack.responseUrl(`life-${trigger}`));
  const opens = () => h.slack.callsTo("apps.connections.open").length;
  const health = async () => {
    const response = await fetch(`http://127.0.0.1:${h.handout.port}/healthz`);
    return { status: response.status, body: (await response.json()) as { slack: Record<string, unknown> } };
  };
  const isHelp = (ack: { payload?: Record<string, unknown> }) =>
    String(ack.payload?.text).includes("/share report");

  it("asks for one connection at start, and /healthz says since when it is connected", async () => {
    expect(opens()).toBe(1);
    expect(socket.greeted).toBe(1);
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.slack).toMatchObject({ mode: "socket", state: "connected" });
    expect(Date.parse(String(body.slack.since))).toBeLessThanOrEqual(h.clock.now().getTime());
  });

  it("acknowledges an envelope that no listener takes", async () => {
    const ack = await socket.send("interactive", {
      type: "block_actions",
      user: { id: "U0ANA" },
      team: { id: "T0001" },
      api_app_id: "A0001",
      trigger_id: "1.1.unknown",
      actions: [{ type: "button", action_id: "nobody_listens", block_id: "b", action_ts: "1.2" }],
    });
    expect(ack.envelope_id).toBeTruthy();
  });

  it("on refresh_requested, greets a new connection before closing the old one, and answers a command sent during the switch", async () => {
    h.slack.reset();
    const [old] = socket.open;
    socket.helloDelayMs = 300;
    socket.disconnect("refresh_requested");
    await socket.connected(2);
    // Slack may still send on the old connection until the new one is greeted.
    const during = await socket.send("slash_commands", command("help", "2001.1.during"), 2000, "oldest");
    expect(isHelp(during)).toBe(true);
    expect((await health()).body.slack).toMatchObject({ state: "connected" });
    await until(() => socket.open.length === 1, "the old connection did not close");
    socket.helloDelayMs = 0;
    const fresh = socket.open[0] as number;
    expect(fresh).not.toBe(old);
    const { timeline } = socket;
    expect(timeline.indexOf(`hello ${fresh}`)).toBeGreaterThan(-1);
    expect(timeline.indexOf(`hello ${fresh}`)).toBeLessThan(timeline.indexOf(`close ${old}`));
    expect(opens()).toBe(1);
    expect(isHelp(await socket.send("slash_commands", command("help", "2001.2.after")))).toBe(true);
  });

  it("still acknowledges a submission whose quick check was waiting on Slack when the refresh came", async () => {
    h.slack.reset();
    // Dan has not been looked up yet: the submission's quick check waits on users.info.
    h.slack.respond("users.info", async (call, fallback) => {
      if (call.args.user === "U0DAN") await delay(400);
      return fallback();
    });
    const view: View = {
      id: "V0OWED",
      private_metadata: new MetadataSeal(h.slack.token).seal({
        userId: "U0DAN",
        viewRef: "handout-owed",
        query: "",
      }),
      blocks: [],
    };
    h.slack.views.set(view.id, { id: view.id, hash: "1", type: "modal", external_id: "handout-owed" });
    const acked = socket.send(
      "interactive",
      flow(h).submission(view, "U0DAN", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY }),
    );
    await h.slack.waitFor("users.info", (call) => call.args.user === "U0DAN");
    socket.disconnect("refresh_requested");
    expect((await acked).payload).toMatchObject({ response_action: "update" });
    const posted = await h.slack.waitFor("chat.postMessage");
    expect(posted.args.channel).toBe("C0GENERAL");
    expect(await flow(h).outcome(view)).toContain("Shared the file");
    await until(() => socket.open.length === 1, "the old connection did not close");
  });

  it("connects again at once after a drop, logging it once", async () => {
    h.slack.reset();
    const logged = h.logs.lines().length;
    const dropped = Date.now();
    socket.drop();
    await until(
      () => socket.open.length === 1 && h.slack.callsTo("apps.connections.open").length === 1,
      "no new connection",
    );
    await until(
      () => socket.greeted === socket.timeline.filter((t) => t.startsWith("open")).length,
      "not greeted",
    );
    // @slack/socket-mode waited 5 seconds here.
    expect(Date.now() - dropped).toBeLessThan(2000);
    const lines = h.logs.lines().slice(logged);
    const complaints = lines.filter((line) => (line.level as number) >= 40);
    expect(complaints.map((line) => line.msg)).toEqual([
      "the Socket Mode connection closed; connecting again",
    ]);
    expect(isHelp(await socket.send("slash_commands", command("help", "2002.1.after-drop")))).toBe(true);
  });

  it("keeps the old connection in use when Slack refuses the app token at a refresh, says so naming SLACK_APP_TOKEN, and switches once it may", async () => {
    h.slack.reset();
    const logged = h.logs.lines().length;
    const [old] = socket.open;
    h.slack.failNext("apps.connections.open", { error: "invalid_auth" });
    socket.disconnect("refresh_requested");
    await until(
      () =>
        h.logs
          .lines()
          .slice(logged)
          .some((line) => String(line.msg).includes("SLACK_APP_TOKEN")),
      "nothing said of the app token",
    );
    const said = h.logs
      .lines()
      .slice(logged)
      .find((line) => String(line.msg).includes("SLACK_APP_TOKEN"));
    expect(said?.msg).toMatch(
      /^Slack refused SLACK_APP_TOKEN \(invalid_auth\): create an app-level token with the connections:write scope/,
    );
    expect(said?.level).toBe(50);
    expect(isHelp(await socket.send("slash_commands", command("help", "2003.1.refused"), 2000, old))).toBe(
      true,
    );
    expect((await health()).status).toBe(200);
    await until(() => socket.open.length === 1 && socket.open[0] !== old, "no switch after the retry", 5000);
  });

  it("survives a revoked app token after a drop, answers 503 on /healthz once without a connection for longer than the bound, and recovers", async () => {
    h.slack.reset();
    for (let i = 0; i < 2; i++) h.slack.failNext("apps.connections.open", { error: "token_revoked" });
    const logged = h.logs.lines().length;
    socket.drop();
    await until(() => h.slack.callsTo("apps.connections.open").length >= 1, "no attempt");
    let shown = await health();
    expect(shown.status).toBe(200);
    expect(shown.body.slack).toMatchObject({ mode: "socket", state: "reconnecting", seconds: 0 });
    h.clock.advance(61_000);
    shown = await health();
    expect(shown.status).toBe(503);
    expect(shown.body).toMatchObject({ ok: false, slack: { state: "reconnecting", seconds: 61 } });
    // Back-off: 1 s, then 2 s, then a connection.
    await socket.connected(1, 8000);
    await until(
      () => socket.greeted === socket.timeline.filter((t) => t.startsWith("open")).length,
      "not greeted",
    );
    shown = await health();
    expect(shown.status).toBe(200);
    expect(shown.body.slack).toMatchObject({ state: "connected" });
    const refusals = h.logs
      .lines()
      .slice(logged)
      .filter((line) => String(line.msg).startsWith("Slack refused SLACK_APP_TOKEN (token_revoked)"));
    expect(refusals).toHaveLength(2);
    expect(h.slack.callsTo("apps.connections.open")).toHaveLength(3);
    expect(isHelp(await socket.send("slash_commands", command("help", "2004.1.recovered")))).toBe(true);
  });
});
