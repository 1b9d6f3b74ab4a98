import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../logger.js";
import type { GateRequest, GateResponse } from "./gate.js";
import { gateUnavailable } from "./pages.js";

/** The gate on Node's HTTP server. */
export const nodeGateHandler =
  (gate: (request: GateRequest) => Promise<GateResponse>, logger: Logger) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    const request: GateRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      cookie: req.headers.cookie,
      userAgent: req.headers["user-agent"],
    };
    gate(request).then(
      (answer) => {
        res.writeHead(answer.status, answer.headers);
        res.end(request.method === "HEAD" ? undefined : answer.body);
      },
      (error: unknown) => {
        // The path only: a callback's query carries a one-time code.
        logger.error({ err: error, path: request.url.split("?")[0] }, "the members-only gate failed");
        if (res.headersSent) return void res.destroy();
        const answer = gateUnavailable();
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      },
    );
  };
