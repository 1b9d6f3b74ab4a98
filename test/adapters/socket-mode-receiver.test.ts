import type { App, ReceiverEvent } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SocketModeReceiver } from "../../src/slack/socket-mode.js";
import { captureLogs } from "../support/log.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { delay, type SocketModeServer, startSocketModeServer, until } from "../support/socket-mode.js";

/**
 * The Socket Mode receiver on its own, over a real WebSocket to the Socket Mode double, with a stand-in
 * for Bolt's `processEvent` that the test controls.
 */

let slack: SlackDouble;
let socket: SocketModeServer;
let receiver: SocketModeReceiver | undefined;
const logs = () => captured.lines();
let captured: ReturnType<typeof captureLogs>;

beforeEach(async () => {
  slack = await startSlackDouble();
  socket = await startSocketModeServer();
  slack.workspace.socketModeUrl = socket.url;
  captured = captureLogs("debug");
});

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  await socket.stop();
  await slack.stop();
});

/** A receiver whose envelopes go to `handle`, as Bolt's App would take them. */
function startReceiver(
  handle: (event: ReceiverEvent) => Promise<void>,
  options: { pingIntervalMs?: number; now?: () => number } = {},
): SocketModeReceiver {
  receiver = new SocketModeReceiver({
    web: new WebClient(slack.appToken, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    }),
    apiUrl: slack.apiUrl,
    logger: captured.logger,
    downLimitMs: 30_000,
    ...options,
  });
  receiver.init({ processEvent: handle } as unknown as App);
  return receiver;
}

describe("the Socket Mode receiver", () => {
  it("says it is connecting until Slack's hello, then since when it is connected", async () => {
    let now = Date.now();
    const r = startReceiver(async () => {}, { now: () => now });
    socket.helloDelayMs = 200;
    const started = r.start();
    await socket.connected();
    now += 5000;
    expect(r.health()).toMatchObject({ state: "connecting", seconds: 5, healthy: true });
    now += 30_000;
    expect(r.health()).toMatchObject({ state: "connecting", seconds: 35, healthy: false });
    await started;
    expect(r.health()).toEqual({ state: "connected", since: new Date(now).toISOString(), healthy: true });
  });

  it("acknowledges an envelope whose listener failed before acknowledging, and logs the failure", async () => {
    startReceiver(async () => {
      throw new Error("listener broke");
    });
    await receiver?.start();
    const ack = await socket.send("interactive", { type: "block_actions", actions: [] });
    expect(ack.payload).toEqual({});
    await until(
      () => logs().some((line) => line.msg === "a Slack envelope could not be handled"),
      "the failure was not logged",
    );
  });

  it("replaces a connection that stops answering pings", async () => {
    startReceiver(async (event) => event.ack(), { pingIntervalMs: 50 });
    await receiver?.start();
    const [first] = socket.open;
    socket.silence();
    await until(() => socket.open.length === 1 && socket.open[0] !== first, "the silent connection was kept");
    await until(() => socket.greeted === 2, "the new connection was not greeted");
    expect(logs().some((line) => line.msg === "the Socket Mode connection stopped answering pings")).toBe(
      true,
    );
    expect(slack.callsTo("apps.connections.open")).toHaveLength(2);
    expect((await socket.send("events_api", { event: { type: "app_mention" } })).envelope_id).toBeTruthy();
  });

  it("on a warning, opens the new connection first and keeps the old one until its ack is sent", async () => {
    let release: (() => void) | undefined;
    startReceiver(async (event) => {
      if ((event.body as { slow?: boolean }).slow) await new Promise<void>((resolve) => (release = resolve));
      await event.ack({ done: true });
    });
    await receiver?.start();
    const [old] = socket.open;
    const owed = socket.send("interactive", { slow: true }, 5000, old);
    await until(() => release !== undefined, "the envelope was not taken");
    socket.disconnect("warning", old);
    await until(() => socket.greeted === 2, "no new connection");
    await delay(50);
    expect(socket.open).toContain(old);
    release?.();
    expect((await owed).payload).toEqual({ done: true });
    await until(() => !socket.open.includes(old as number), "the old connection was kept");
    expect(socket.timeline.indexOf("hello 2")).toBeLessThan(socket.timeline.indexOf(`close ${old}`));
  });

  it("when draining, takes no new envelope and closes each connection once it owes nothing", async () => {
    let release: (() => void) | undefined;
    let taken = 0;
    startReceiver(async (event) => {
      taken++;
      await new Promise<void>((resolve) => (release = resolve));
      await event.ack();
    });
    await receiver?.start();
    const owed = socket.send("slash_commands", { command: "/share" });
    await until(() => release !== undefined, "the envelope was not taken");
    receiver?.drain();
    expect(receiver?.health()).toEqual({ state: "stopping", healthy: false });
    await expect(socket.send("slash_commands", { command: "/share" }, 300)).rejects.toThrow(
      /no acknowledgement/,
    );
    expect(taken).toBe(1);
    expect(socket.connections).toBe(1);
    release?.();
    expect((await owed).envelope_id).toBeTruthy();
    await socket.disconnected();
    // Stopping does not reconnect.
    await delay(100);
    expect(slack.callsTo("apps.connections.open")).toHaveLength(1);
  });
});
