import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/**
 * Slack's side of Socket Mode on loopback: a WebSocket server that greets each app with `hello`, sends it
 * envelopes (slash commands, interactions, events) as Slack does, and hands back the app's
 * acknowledgement for each. Point the Slack double's `workspace.socketModeUrl` at `url`.
 */

/** Slack's envelope types. */
export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

/** What an app sends back for an envelope: its ID, and for commands and interactions a payload. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

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
  /** Sends an envelope on the newest connection; resolves with the app's acknowledgement. */
  send(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs?: number): Promise<SocketAck>;
  stop(): Promise<void>;
}

const wait = async (done: () => boolean, what: string, timeoutMs: number) => {
  for (const started = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`Socket Mode double: ${what} within ${timeoutMs} ms`);
  }
};

export async function startSocketModeServer(appId = "A0001"): Promise<SocketModeServer> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/link/" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const sockets: WebSocket[] = [];
  const pending = new Map<string, (ack: SocketAck) => void>();
  let greeted = 0;

  server.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("close", () => sockets.splice(sockets.indexOf(socket), 1));
    socket.on("message", (data) => {
      const ack = JSON.parse(String(data)) as SocketAck;
      pending.get(ack.envelope_id)?.(ack);
      pending.delete(ack.envelope_id);
    });
    socket.send(
      JSON.stringify({
        type: "hello",
        num_connections: sockets.length,
        debug_info: { host: "applink-test", build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: appId },
      }),
    );
    greeted++;
  });

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/`,
    get connections() {
      return sockets.length;
    },
    get greeted() {
      return greeted;
    },
    connected: (count = 1, timeoutMs = 5000) =>
      wait(() => sockets.length >= count, `${count} connection(s) not made`, timeoutMs),
    disconnected: (timeoutMs = 5000) =>
      wait(() => sockets.length === 0, "the app did not disconnect", timeoutMs),
    send(type, payload, timeoutMs = 5000) {
      const socket = sockets.at(-1);
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
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.terminate();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
