import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/**
 * Slack's side of Socket Mode on loopback: a WebSocket server that greets each app with `hello`, sends it
 * envelopes (slash commands, interactions, events) as Slack does, asks for a new connection with a
 * `disconnect` message, and hands back the app's acknowledgement for each envelope, on whichever
 * connection it arrives. Point the Slack double's `workspace.socketModeUrl` at `url`. Connections are
 * numbered from 1 in the order they were opened.
 */

/** Slack's envelope types. */
export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

/** What an app sends back for an envelope: its ID, and for commands and interactions a payload. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

/** Which open connection: the oldest, the newest (default), or by number. */
export type Which = "oldest" | "newest" | number;

export interface SocketModeServer {
  /** ws://127.0.0.1:PORT/link/ */
  readonly url: string;
  /** Open connections. */
  readonly connections: number;
  /** Hellos sent: an app that got one is connected, as far as Slack is concerned. */
  readonly greeted: number;
  /** Resolves once `count` apps are connected (and greeted). */
  connected(count?: number, timeoutMs?: number): Promise<void>;
  /** Resolves once no app is connected. */
  disconnected(timeoutMs?: number): Promise<void>;
  /** What happened, in order: `open 1`, `hello 1`, `close 1`, … */
  readonly timeline: readonly string[];
  /** Numbers of the open connections, oldest first. */
  readonly open: readonly number[];
  /** How long the next connections wait for their `hello` (default 0): a window in which to act. */
  helloDelayMs: number;
  /** Sends an envelope (on the newest connection by default); resolves with the app's acknowledgement. */
  send(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    timeoutMs?: number,
    on?: Which,
  ): Promise<SocketAck>;
  /** Sends Slack's `disconnect` message (`refresh_requested`, `warning`, `link_disabled`), as Slack does before it recycles a connection. */
  disconnect(reason: string, on?: Which): void;
  /** Drops a connection without a word, as a network failure does. */
  drop(on?: Which): void;
  /** The connection stops answering pings (and sends nothing more), as a half-open link does. */
  silence(on?: Which): void;
  stop(): Promise<void>;
}

/** The payload of a `/share` slash command envelope, as Ana types it in #general. */
export const shareCommandPayload = (text: string, trigger: string, responseUrl: string) => ({
  token: "legacy-verification-token",
  team_id: "T0001",
  team_domain: "handout-test",
  channel_id: "C0GENERAL",
  channel_name: "general",
  user_id: "U0ANA",
  user_name: "ana",
  command: "/share",
  text,
  api_app_id: "A0001",
  is_enterprise_install: "false",
  response_url: responseUrl,
  trigger_id: trigger,
});

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `done()` is true; rejects, saying `what` did not happen, after `timeoutMs`. */
export const until = async (done: () => boolean, what: string, timeoutMs = 5000) => {
  for (const started = Date.now(); !done(); await delay(10)) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} within ${timeoutMs} ms`);
  }
};

export async function startSocketModeServer(appId = "A0001"): Promise<SocketModeServer> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/link/", autoPong: false });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const sockets: WebSocket[] = [];
  const numbers = new Map<WebSocket, number>();
  const pending = new Map<string, (ack: SocketAck) => void>();
  const timeline: string[] = [];
  let greeted = 0;
  let opened = 0;
  let helloDelayMs = 0;
  const silent = new Set<WebSocket>();

  server.on("connection", (socket) => {
    const number = ++opened;
    sockets.push(socket);
    numbers.set(socket, number);
    timeline.push(`open ${number}`);
    socket.on("close", () => {
      sockets.splice(sockets.indexOf(socket), 1);
      timeline.push(`close ${number}`);
    });
    socket.on("ping", (data) => {
      if (!silent.has(socket)) socket.pong(data);
    });
    socket.on("message", (data) => {
      const ack = JSON.parse(String(data)) as SocketAck;
      pending.get(ack.envelope_id)?.(ack);
      pending.delete(ack.envelope_id);
    });
    const hello = () => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(
        JSON.stringify({
          type: "hello",
          num_connections: sockets.length,
          debug_info: { host: "applink-test", build_number: 1, approximate_connection_time: 18_060 },
          connection_info: { app_id: appId },
        }),
      );
      greeted++;
      timeline.push(`hello ${number}`);
    };
    if (helloDelayMs > 0) setTimeout(hello, helloDelayMs);
    else hello();
  });

  const pick = (which: Which = "newest"): WebSocket | undefined =>
    which === "oldest"
      ? sockets[0]
      : which === "newest"
        ? sockets.at(-1)
        : sockets.find((socket) => numbers.get(socket) === which);

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/`,
    get connections() {
      return sockets.length;
    },
    get greeted() {
      return greeted;
    },
    timeline,
    get open() {
      return sockets.map((socket) => numbers.get(socket) as number);
    },
    get helloDelayMs() {
      return helloDelayMs;
    },
    set helloDelayMs(ms: number) {
      helloDelayMs = ms;
    },
    connected: (count = 1, timeoutMs = 5000) =>
      until(() => sockets.length >= count, `Socket Mode double: ${count} connection(s) not made`, timeoutMs),
    disconnected: (timeoutMs = 5000) =>
      until(() => sockets.length === 0, "Socket Mode double: the app did not disconnect", timeoutMs),
    send(type, payload, timeoutMs = 5000, on = "newest") {
      const socket = pick(on);
      if (!socket) return Promise.reject(new Error("Socket Mode double: no app is connected"));
      const envelopeId = randomUUID();
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(envelopeId);
          reject(
            new Error(`Socket Mode double: no acknowledgement of a ${type} envelope within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        pending.set(envelopeId, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        socket.send(
          JSON.stringify({
            envelope_id: envelopeId,
            type,
            payload,
            accepts_response_payload: type !== "events_api",
            ...(type === "events_api" ? { retry_attempt: 0, retry_reason: "" } : {}),
          }),
        );
      });
    },
    disconnect(reason, on) {
      pick(on)?.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-test" } }));
    },
    drop(on) {
      pick(on)?.terminate();
    },
    silence(on) {
      const socket = pick(on);
      if (socket) silent.add(socket);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.terminate();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
