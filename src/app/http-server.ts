import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { HandoutError } from "../domain/errors.js";
import { isGatePath } from "../links/gate/gate.js";
import { isSignedLink } from "../links/link-server.js";

export interface HttpServerOptions {
  readonly port: number;
  /** What GET /healthz reports; it answers 503 when `ok` is false, so that the HEALTHCHECK sees it. */
  readonly health: () => { readonly ok: boolean } & Record<string, unknown>;
  /** Handout's own signed links (the embedded default); answers true when it took the request. */
  readonly links?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** Slack's events in HTTP mode, on /slack/events. */
  readonly slack?: RequestListener | undefined;
  /** Members-only links and the sign-in callback, under /o/. */
  readonly gate?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The page at `/` (the embedded default's): HTML. */
  readonly home?: (() => string) | undefined;
}

export interface RunningHttpServer {
  readonly port: number;
  /** Takes no new connections; requests under way finish, and idle kept-alive connections close. */
  stopAccepting(): void;
  /** Stops, cutting off whatever is still under way after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Slack gives an app 3 seconds to answer, and sends each request whole at once: a request still
 * arriving after a few seconds is not Slack's, and a client that dribbles its bytes must not hold a
 * socket for minutes.
 */
export const SERVER_LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 8_000,
  /** Idle time before a kept-alive connection is closed; a proxy in front must close its own sooner. */
  keepAliveTimeoutMs: 5_000,
  /** A download (the embedded default's links) that moves no byte for this long is cut off. */
  idleTimeoutMs: 60_000,
  /** Connections at once; those beyond are closed on arrival. */
  maxConnections: 256,
} as const;

const serverOptions: ServerOptions = {
  headersTimeout: SERVER_LIMITS.headersTimeoutMs,
  requestTimeout: SERVER_LIMITS.requestTimeoutMs,
  keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
  // How often Node looks for requests past those timeouts (30 s by default, which would triple them).
  connectionsCheckingInterval: 1_000,
};

/** Why the port could not be had, naming PORT; other failures as they are. */
function listenProblem(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return new HandoutError(
      "CONFIG_INVALID",
      `PORT ${port} is in use by another program (EADDRINUSE): stop it (another Handout, perhaps), or set PORT to a free port.`,
      { cause: error },
    );
  }
  if (error.code === "EACCES") {
    return new HandoutError(
      "CONFIG_INVALID",
      `PORT ${port} needs privileges that this user does not have (EACCES): set PORT to 1024 or above.`,
      { cause: error },
    );
  }
  return error;
}

/** Handout's one HTTP server: /healthz, Slack's events in HTTP mode, and the embedded default's page and links. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer(serverOptions, (req, res) => {
    // A signed link for a key named `healthz` or under `slack/` is still a link.
    if (isSignedLink(req.url) && options.links?.(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      const health = options.health();
      res.writeHead(health.ok ? 200 : 503, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify(health));
      return;
    }
    if (options.gate && isGatePath(path)) {
      options.gate(req, res);
      return;
    }
    if (path === "/" && options.home && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : options.home());
      return;
    }
    if (path?.startsWith("/slack/") && options.slack) {
      try {
        options.slack(req, res);
      } catch {
        // Bolt's listener throws (synchronously) for requests it does not route, such as a GET.
        if (!res.headersSent) res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        res.end("Not found.\n");
      }
      return;
    }
    if (options.links?.(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("Not found.\n");
  });
  server.maxConnections = SERVER_LIMITS.maxConnections;
  server.setTimeout(SERVER_LIMITS.idleTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(listenProblem(error, options.port)));
    server.listen(options.port, () => resolve());
  });
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  let closing = false;
  const stopAccepting = () => {
    if (!closing) server.close();
    closing = true;
    server.closeIdleConnections();
  };
  // A kept-alive connection that finishes a request once the server is closing closes then, not later.
  server.on("request", (_req, res) => {
    if (closing) res.shouldKeepAlive = false;
  });
  return {
    port: (server.address() as AddressInfo).port,
    stopAccepting,
    async stop(graceMs = 0) {
      stopAccepting();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed.finally(() => clearTimeout(force));
    },
  };
}
