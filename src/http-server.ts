import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
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
  /** The page at `/` (the embedded default's): HTML. */
  readonly home?: (() => string) | undefined;
}

export interface RunningHttpServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** Handout's one HTTP server: /healthz, Slack's events in HTTP mode, and the embedded default's page and links. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    // A signed link for a key named `healthz` or under `slack/` is still a link.
    if (isSignedLink(req.url) && options.links?.(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify({ ok: true, ...options.health() }));
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
