import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import { ErrorCode, type WebClient } from "@slack/web-api";
import WebSocket from "ws";
import { HandoutError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { slackErrorCode } from "./web/slack-error.js";

/**
 * Bolt's receiver for Socket Mode, written for a connection that is always there. `@slack/socket-mode`
 * closes its socket as soon as Slack asks for a refresh (losing acknowledgements still owed) and waits
 * seconds before connecting again; here the new connection is opened and greeted first, the old one is
 * kept until it owes nothing, and a drop is followed by an immediate attempt, with back-off only when
 * attempts keep failing. Every envelope is acknowledged, whether a listener took it or not.
 */

/** What /healthz says of the connection. */
export interface SocketModeHealth {
  readonly state: "connecting" | "connected" | "reconnecting" | "stopping";
  /** When the connection in use was greeted, or when the last one was lost. */
  readonly since?: string;
  /** How long Socket Mode has been without a connection. */
  readonly seconds?: number;
  /** False once Socket Mode has been without a connection for longer than the bound. */
  readonly healthy: boolean;
}

export interface SocketModeOptions {
  /**
   * A Web API client with the app-level token and no retries of its own: retrying is this receiver's
   * job, so that every failure is seen and said once.
   */
  readonly web: WebClient;
  /** Named in messages about a connection Slack would not open. */
  readonly apiUrl?: string | undefined;
  readonly logger: Logger;
  /** How long Socket Mode may be without a connection before health says it is not healthy. */
  readonly downLimitMs: number;
  readonly now?: () => number;
  /** How often the connection is pinged; a ping still unanswered at the next one ends the connection. */
  readonly pingIntervalMs?: number;
  /** How long Slack may take to greet a new connection. */
  readonly helloTimeoutMs?: number;
  /** The wait after the first failed attempt to connect; it doubles with each further one, up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Slack stops waiting for an acknowledgement after 3 seconds: an old connection is kept no longer for one. */
const ACK_DEADLINE_MS = 3000;
/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 1000;

interface Link {
  readonly id: number;
  readonly socket: WebSocket;
  /** Envelopes received on it and not yet acknowledged. */
  readonly owed: Set<string>;
  retiring: boolean;
  alive: boolean;
  closed: Promise<void>;
}

interface Envelope {
  type?: string;
  reason?: string;
  envelope_id?: string;
  payload?: Record<string, unknown>;
  retry_attempt?: number;
  retry_reason?: string;
}

const TOKEN_REFUSED = new Set(["invalid_auth", "not_authed", "token_revoked", "account_inactive"]);

/**
 * Why `apps.connections.open` failed, in words that say what to do; `retryAfterMs` when Slack said how
 * long to wait.
 */
export function connectionProblem(
  error: unknown,
  apiUrl: string | undefined,
  when: "start" | "reconnect" = "start",
): HandoutError & { retryAfterMs?: number } {
  const code = slackErrorCode(error);
  const status = (error as { statusCode?: number }).statusCode;
  if (
    (error as { code?: string }).code === ErrorCode.RateLimitedError ||
    (status !== undefined && status >= 500)
  ) {
    const retryAfter = (error as { retryAfter?: number }).retryAfter;
    return Object.assign(
      new HandoutError(
        "SLACK_UNAVAILABLE",
        `Slack is busy and would not open a Socket Mode connection now (${status ?? "rate limited"})${when === "start" ? ": start Handout again in a minute." : "."}`,
        { cause: error },
      ),
      retryAfter === undefined ? {} : { retryAfterMs: retryAfter * 1000 },
    );
  }
  if (code === undefined) {
    return new HandoutError(
      "SLACK_UNAVAILABLE",
      `Could not reach Slack to open a Socket Mode connection (${(error as Error).message}): check the network${apiUrl ? " and SLACK_API_URL" : ""}.`,
      { cause: error },
    );
  }
  return new HandoutError(
    "CONFIG_INVALID",
    TOKEN_REFUSED.has(code)
      ? `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token with the connections:write scope on the Slack app's Basic Information page.`
      : `Slack would not open a Socket Mode connection (${code}): check that Socket Mode is on in the Slack app's settings.`,
    { cause: error },
  );
}

export class SocketModeReceiver implements Receiver {
  private app: App | undefined;
  private readonly web: WebClient;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly links = new Set<Link>();
  private current: Link | undefined;
  private connecting: Promise<void> | undefined;
  private linkCount = 0;
  private startedAt: number | undefined;
  private connectedSince: number | undefined;
  private downSince: number | undefined;
  private draining = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: SocketModeOptions) {
    this.logger = options.logger.child({ component: "socket-mode" });
    this.now = options.now ?? Date.now;
    this.web = options.web;
  }

  init(app: App): void {
    this.app = app;
  }

  /** Connects once: a failure here is final and says what to fix (a bad token, Socket Mode off). */
  async start(): Promise<void> {
    this.draining = false;
    this.startedAt = this.now();
    this.use(await this.openLink());
  }

  /** Stops taking envelopes: connections close as soon as they owe no acknowledgement. */
  drain(): void {
    this.draining = true;
    this.wake?.();
    for (const link of this.links) this.retire(link);
  }

  async stop(): Promise<void> {
    this.drain();
    await Promise.all([...this.links].map((link) => this.close(link)));
  }

  health(): SocketModeHealth {
    if (this.draining) return { state: "stopping", healthy: false };
    const iso = (at: number) => new Date(at).toISOString();
    if (this.current && this.connectedSince !== undefined) {
      return { state: "connected", since: iso(this.connectedSince), healthy: true };
    }
    const lost = this.downSince ?? this.startedAt ?? this.now();
    const down = this.now() - lost;
    return {
      state: this.downSince === undefined ? "connecting" : "reconnecting",
      ...(this.downSince === undefined ? {} : { since: iso(this.downSince) }),
      seconds: Math.floor(down / 1000),
      healthy: down <= this.options.downLimitMs,
    };
  }

  private use(link: Link): void {
    const old = this.current;
    this.current = link;
    this.connectedSince = this.now();
    this.downSince = undefined;
    if (old) this.retire(old);
  }

  /** Opens a connection and makes it the one in use, trying until it works or Handout stops; one at a time. */
  private connect(): Promise<void> {
    this.connecting ??= this.keepTrying().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async keepTrying(): Promise<void> {
    for (let failures = 0; !this.draining; ) {
      try {
        const link = await this.openLink();
        if (this.draining) {
          await this.close(link);
          return;
        }
        this.use(link);
        if (failures > 0) this.logger.info({ attempts: failures + 1 }, "Socket Mode is connected again");
        return;
      } catch (error) {
        // A connection still being greeted when Handout stops fails; that is no news.
        if (this.draining) return;
        failures++;
        const first = this.options.backoffMs ?? 1000;
        const wait = Math.max(
          Math.min(first * 2 ** (failures - 1), this.options.maxBackoffMs ?? 30_000),
          (error as { retryAfterMs?: number }).retryAfterMs ?? 0,
        );
        this.logger.error(
          { attempt: failures, retryInMs: wait },
          `${(error as Error).message} Handout tries again in ${Math.ceil(wait / 1000)} s.`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private async openUrl(): Promise<string> {
    let url: string | undefined;
    try {
      url = (await this.web.apps.connections.open()).url;
    } catch (error) {
      throw connectionProblem(
        error,
        this.options.apiUrl,
        this.current || this.downSince ? "reconnect" : "start",
      );
    }
    if (!url) throw new HandoutError("SLACK_UNAVAILABLE", "Slack gave no Socket Mode URL.");
    return url;
  }

  /** One `apps.connections.open`, one WebSocket, resolved once Slack has said hello on it. */
  private async openLink(): Promise<Link> {
    const url = await this.openUrl();
    const socket = new WebSocket(url);
    let greet: { resolve: () => void; reject: (error: Error) => void } | undefined;
    const greeted = new Promise<void>((resolve, reject) => {
      greet = { resolve, reject };
    });
    const link: Link = {
      id: ++this.linkCount,
      socket,
      owed: new Set(),
      retiring: false,
      alive: true,
      closed: new Promise((resolve) => socket.once("close", () => resolve())),
    };
    this.links.add(link);
    const ms = this.options.pingIntervalMs ?? 10_000;
    const pinger = setInterval(() => {
      if (!link.alive) {
        this.logger.warn({ connection: link.id }, "the Socket Mode connection stopped answering pings");
        socket.terminate();
        return;
      }
      link.alive = false;
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, ms);
    pinger.unref();
    const timeout = setTimeout(() => {
      greet?.reject(new HandoutError("SLACK_UNAVAILABLE", "Slack opened no Socket Mode session in time."));
      socket.terminate();
    }, this.options.helloTimeoutMs ?? 10_000);
    socket.on("pong", () => {
      link.alive = true;
    });
    socket.on("ping", () => {
      link.alive = true;
    });
    socket.on("message", (data, isBinary) => {
      link.alive = true;
      if (isBinary) return;
      let message: Envelope;
      try {
        message = JSON.parse(String(data)) as Envelope;
      } catch {
        this.logger.debug("ignored a Socket Mode message that is not JSON");
        return;
      }
      if (message.type === "hello") {
        clearTimeout(timeout);
        greet?.resolve();
      } else if (message.type === "disconnect") this.onDisconnect(link, message.reason);
      else if (typeof message.envelope_id === "string") this.onEnvelope(link, message);
    });
    // A failed connection also closes: the close handler says it, once.
    socket.on("error", (error) =>
      this.logger.debug({ err: error, connection: link.id }, "Socket Mode error"),
    );
    socket.on("close", (code) => {
      clearInterval(pinger);
      clearTimeout(timeout);
      this.links.delete(link);
      greet?.reject(
        new HandoutError("SLACK_UNAVAILABLE", `Slack closed the Socket Mode connection (${code}).`),
      );
      this.onClose(link, code);
    });
    await greeted;
    greet = undefined;
    return link;
  }

  private onDisconnect(link: Link, reason: string | undefined): void {
    if (link !== this.current || this.draining) return;
    // refresh_requested, warning or link_disabled: Slack will close this one; the new one comes first.
    this.logger.info({ reason, connection: link.id }, "Slack asked for a new Socket Mode connection");
    void this.connect();
  }

  private onClose(link: Link, code: number): void {
    if (link !== this.current) return;
    this.current = undefined;
    if (this.draining) return;
    this.downSince = this.now();
    this.logger.warn({ code, connection: link.id }, "the Socket Mode connection closed; connecting again");
    void this.connect();
  }

  private onEnvelope(link: Link, envelope: Envelope): void {
    const id = envelope.envelope_id as string;
    // Slack sends it again (events) or shows an error; a restarted Handout takes the next one.
    if (this.draining) {
      this.logger.info({ type: envelope.type }, "not taking a Slack envelope: Handout is stopping");
      return;
    }
    link.owed.add(id);
    let acked = false;
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) return;
      acked = true;
      await this.acknowledge(link, id, response);
    };
    const event: ReceiverEvent = {
      body: envelope.payload ?? {},
      ack,
      retryNum: envelope.retry_attempt,
      retryReason: envelope.retry_reason,
    };
    void (async () => {
      try {
        await this.app?.processEvent(event);
      } catch (error) {
        this.logger.error({ err: error, type: envelope.type }, "a Slack envelope could not be handled");
      }
      // No listener took it, or one failed before acknowledging: Slack still gets its answer.
      await ack();
    })();
  }

  /** On the connection the envelope came on while it is open, otherwise on any open one. */
  private acknowledge(link: Link, id: string, response: unknown): Promise<void> {
    const open = [link, this.current, ...this.links].find((l) => l?.socket.readyState === WebSocket.OPEN);
    const payload = typeof response === "string" ? { text: response } : (response ?? {});
    return new Promise<void>((resolve) => {
      const done = (error?: Error) => {
        if (error) this.logger.warn({ err: error, envelope: id }, "could not acknowledge a Slack envelope");
        link.owed.delete(id);
        if (link.retiring && link.owed.size === 0) void this.close(link);
        resolve();
      };
      if (!open) done(new Error("no Socket Mode connection is open"));
      else open.socket.send(JSON.stringify({ envelope_id: id, payload }), done);
    });
  }

  /** Closes a connection once it owes no acknowledgement, or once Slack would no longer want one. */
  private retire(link: Link): void {
    if (link.retiring) return;
    link.retiring = true;
    if (link.owed.size === 0) void this.close(link);
    else setTimeout(() => void this.close(link), ACK_DEADLINE_MS).unref();
  }

  private close(link: Link): Promise<void> {
    const { socket } = link;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    if (socket.readyState !== WebSocket.CLOSING) socket.close(1000);
    const force = setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS);
    return link.closed.finally(() => clearTimeout(force));
  }
}
