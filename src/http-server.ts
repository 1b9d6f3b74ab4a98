import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { isSignedLink } from "./links/link-server.js";

export interface HttpServerOptions {
  readonly port: number;
  /** What GET /healthz reports (always with `ok: true`: the process is up and answering). */
  readonly health: () => Record<string, unknown>;
  /** Handout's own signed links (the embedded default); answers true when it took the request. */
  readonly links?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** Slack's events in HTTP mode, on /slack/events. */
  readonly slack?: RequestListener | undefined;
}

export interface RunningHttpServer {
  readonly port: number;
  stop(): Promise<void>;
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

/** Handout's one HTTP server: /healthz, Slack's events in HTTP mode, and links in the embedded default. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer(serverOptions, (req, res) => {
    // A signed link for a key named `healthz` or under `slack/` is still a link.
    if (isSignedLink(req.url) && options.links?.(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify({ ok: true, ...options.health() }));
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
    server.once("error", reject);
    server.listen(options.port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
