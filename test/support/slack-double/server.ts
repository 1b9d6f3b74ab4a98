import { EventEmitter } from "node:events";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { fail, isRecord, parseArgs } from "./args.js";
import { chat } from "./chat.js";
import { conversations } from "./conversations.js";
import { messageBlocksProblem } from "./limits.js";
import { people } from "./people.js";
import { socketMode } from "./socket-mode.js";
import { type Methods, newState } from "./state.js";
import type {
  SlackCall,
  SlackDouble,
  SlackDoubleOptions,
  SlackFault,
  SlackHandler,
  SlackReply,
  SlackWorkspace,
} from "./types.js";
import { views as viewMethods } from "./views.js";

function isReply(value: unknown): value is SlackReply {
  return (
    isRecord(value) &&
    "body" in value &&
    !("ok" in value) &&
    Object.keys(value).every((key) => key === "body" || key === "status" || key === "headers")
  );
}

function faultReply(fault: SlackFault): SlackReply {
  if ("error" in fault) return { body: fail(fault.error, fault.details) };
  if (fault.status === 429) {
    return {
      status: 429,
      headers: { "retry-after": String(fault.retryAfter ?? 1), ...fault.headers },
      body: fault.body ?? fail("ratelimited"),
    };
  }
  return {
    status: fault.status,
    headers: fault.headers ?? {},
    body: fault.body ?? STATUS_CODES[fault.status] ?? "error",
  };
}

/**
 * Slack takes up to five messages at a response URL, for 30 minutes from when it hands the URL out.
 * Slack's documentation gives the limits but not the answer past them: the double answers 404, with
 * `used_url` or `expired_url`. It times a URL on a monotonic clock, which a shifted calendar does not move.
 */
export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

export async function startSlackDouble(options: SlackDoubleOptions = {}): Promise<SlackDouble> {
  const token = options.token ?? "xoxb-test";
  const appToken = options.appToken ?? "xapp-test";
  const workspace: SlackWorkspace = {
    users: new Map(),
    usergroups: new Map(),
    channels: new Map(),
    botUserId: options.botUserId ?? "UBOT",
    botId: options.botId ?? "BBOT",
    teamId: options.teamId ?? "T0001",
    teamDomain: options.teamDomain ?? "handout-test",
    appId: options.appId ?? "A0001",
  };
  const state = newState(workspace);
  const { views, messages } = state;
  const calls: SlackCall[] = [];
  const overrides = new Map<string, SlackHandler>();
  const faults = new Map<string, SlackFault[]>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  /** Each response URL handed out or posted to: when it was first seen, and how often it was used. */
  const monotonicMs = options.monotonicMs ?? (() => performance.now());
  const responseUrls = new Map<string, { since: number; uses: number }>();
  const responseUrlUse = (id: string) => {
    let use = responseUrls.get(id);
    if (!use) {
      use = { since: monotonicMs(), uses: 0 };
      responseUrls.set(id, use);
    }
    return use;
  };

  const rooms = conversations(state);
  const methods: Methods = {
    ...people(state),
    ...socketMode(state),
    ...viewMethods(state),
    ...chat(state, rooms),
    ...rooms.methods,
  };

  function defaultReply(call: SlackCall, invalidJson: boolean): SlackReply {
    if (call.method.startsWith("response_url:")) {
      const use = responseUrlUse(call.method.slice("response_url:".length));
      use.uses += 1;
      if (use.uses > RESPONSE_URL_USES) return { status: 404, body: "used_url" };
      if (monotonicMs() - use.since > RESPONSE_URL_LIFETIME_MS) return { status: 404, body: "expired_url" };
      // A response URL answers in plain text: "ok", or the error with a 400.
      const problem = invalidJson ? "invalid_payload" : messageBlocksProblem(call.args.blocks)?.error;
      return problem ? { status: 400, body: String(problem) } : { body: "ok" };
    }
    if (invalidJson) return { body: fail("invalid_json") };
    if (call.token === undefined || call.token === "") return { body: fail("not_authed") };
    // apps.connections.open takes the app-level token; every other method a bot token.
    const wanted = call.method === "apps.connections.open" ? appToken : token;
    if (call.token === token || call.token === appToken) {
      if (call.token !== wanted) return { body: fail("not_allowed_token_type") };
    } else return { body: fail("invalid_auth") };
    const handler = methods[call.method];
    if (!handler) return { body: fail("unknown_method", { req_method: call.method }) };
    return { body: handler(call.args) };
  }

  async function answer(call: SlackCall, invalidJson: boolean): Promise<SlackReply> {
    const fault = faults.get(call.method)?.shift();
    if (fault) return faultReply(fault);
    const override = overrides.get(call.method);
    const fallback = () => defaultReply(call, invalidJson);
    if (!override) return fallback();
    const result = await override(call, fallback);
    return isReply(result) ? result : { body: result };
  }

  function send(response: ServerResponse, reply: SlackReply) {
    const status = reply.status ?? 200;
    const isText = typeof reply.body === "string";
    const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
    response.writeHead(status, {
      "content-type": isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
      ...reply.headers,
    });
    response.end(payload);
  }

  async function handle(request: IncomingMessage, raw: string, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    let method: string;
    if (url.pathname.startsWith("/api/") && url.pathname.length > "/api/".length) {
      method = decodeURIComponent(url.pathname.slice("/api/".length));
    } else if (url.pathname.startsWith("/response/") && url.pathname.length > "/response/".length) {
      method = `response_url:${decodeURIComponent(url.pathname.slice("/response/".length))}`;
    } else {
      send(response, { status: 404, body: "Not Found" });
      return;
    }
    const { args, invalidJson } = parseArgs(
      String(request.headers["content-type"] ?? ""),
      raw,
      url.searchParams,
    );
    const bearer = /^Bearer\s+(.+)$/i.exec(String(request.headers.authorization ?? ""))?.[1];
    const formToken = typeof args.token === "string" ? args.token : undefined;
    delete args.token;
    const callToken = bearer ?? formToken;
    const call: SlackCall = {
      method,
      args,
      ...(callToken === undefined ? {} : { token: callToken }),
      at: Date.now(),
    };
    calls.push(call);
    events.emit("call", call);
    const reply = await answer(call, invalidJson);
    call.response = { status: reply.status ?? 200, body: reply.body };
    send(response, reply);
  }

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      handle(request, Buffer.concat(chunks).toString("utf8"), response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end(`Slack double failed: ${error instanceof Error ? error.stack : String(error)}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${url}/api/`,
    url,
    token,
    appToken,
    workspace,
    calls,
    views,
    messages,
    callsTo: (method) => calls.filter((call) => call.method === method),
    waitFor: (method, predicate, timeoutMs = 5000) =>
      new Promise<SlackCall>((resolve, reject) => {
        const matches = (call: SlackCall) => call.method === method && (predicate?.(call) ?? true);
        const found = calls.find(matches);
        if (found) {
          resolve(found);
          return;
        }
        const onCall = (call: SlackCall) => {
          let matched: boolean;
          try {
            matched = matches(call);
          } catch (error) {
            done();
            reject(error);
            return;
          }
          if (matched) {
            done();
            resolve(call);
          }
        };
        const timer = setTimeout(() => {
          events.off("call", onCall);
          const seen = calls.map((call) => call.method).join(", ") || "none";
          reject(
            new Error(
              `Slack double: no ${method} call${predicate ? " matching the predicate" : ""} ` +
                `within ${timeoutMs} ms (calls so far: ${seen})`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          events.off("call", onCall);
        };
        events.on("call", onCall);
      }),
    respond(method, handler) {
      overrides.set(method, handler);
    },
    failNext(method, fault) {
      const queue = faults.get(method) ?? [];
      queue.push(fault);
      faults.set(method, queue);
    },
    responseUrl: (id) => {
      responseUrlUse(id);
      return `${url}/response/${encodeURIComponent(id)}`;
    },
    reset() {
      calls.length = 0;
      overrides.clear();
      faults.clear();
    },
    // Lets calls under way finish (for up to a second), so an app still talking to Slack is not cut off.
    stop: () =>
      new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
