export interface SlackUser {
  id: string;
  name: string;
  real_name?: string;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  deleted?: boolean;
  is_bot?: boolean;
  tz?: string;
  /** Another organisation's, for people met in shared channels (defaults to the workspace's). */
  team_id?: string;
}

export interface SlackUsergroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

export interface SlackChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_ext_shared?: boolean;
  is_im?: boolean;
  is_archived?: boolean;
  /** User IDs; the bot is in the channel when `workspace.botUserId` is among them. */
  members: string[];
}

export interface SlackWorkspace {
  users: Map<string, SlackUser>;
  usergroups: Map<string, SlackUsergroup>;
  channels: Map<string, SlackChannel>;
  botUserId: string;
  botId: string;
  teamId: string;
  teamDomain: string;
  appId: string;
  /** Where apps.connections.open sends an app: a Socket Mode server's ws:// URL. Unset: Socket Mode is off. */
  socketModeUrl?: string;
}

export interface SlackCall {
  /** The Web API method (`chat.postMessage`), or `response_url:<id>` for a POST to a response URL. */
  method: string;
  args: Record<string, unknown>;
  token?: string;
  /** Date.now() when the request arrived. */
  at: number;
  /** What the double answered; set once the answer is decided (after any delay in a `respond` handler). */
  response?: { status: number; body: unknown };
}

/** A full HTTP answer; a string body is sent as text/plain, anything else as JSON. */
export interface SlackReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** An override: returns a reply or a plain Slack body (`{ ok: false, error: "…" }`); may be async. */
export type SlackHandler = (
  call: SlackCall,
  /** The double's default answer to this call (it applies its side effects, such as storing a message). */
  fallback: () => SlackReply,
) => SlackReply | Record<string, unknown> | Promise<SlackReply | Record<string, unknown>>;

/**
 * A one-shot fault. `{ status: 429, retryAfter }` sends a Retry-After header (default 1 second) and
 * `{ ok: false, error: "ratelimited" }`; another status sends that status with `body` (default: its reason
 * phrase as text); `{ error }` sends HTTP 200 `{ ok: false, error, ...details }`.
 */
export type SlackFault =
  | { status: number; retryAfter?: number; body?: unknown; headers?: Record<string, string> }
  | { error: string; details?: Record<string, unknown> };

/** A view as the double keeps it (and returns it from views.open, views.push and views.update). */
export type SlackView = Record<string, unknown> & { id: string; hash: string };

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  user: string;
  bot_id: string;
  pinned: boolean;
  edited?: { user: string; ts: string };
}

export interface SlackDoubleOptions {
  /** The only bot token the double accepts (default "xoxb-test"). */
  token?: string;
  /** The app-level token apps.connections.open takes, and only it (default "xapp-test"). */
  appToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  /** Milliseconds on a monotonic clock, for a response URL's 30 minutes (default `performance.now`). */
  monotonicMs?: () => number;
}

export interface SlackDouble {
  /** http://127.0.0.1:PORT/api/ — pass as `slackApiUrl`. */
  readonly apiUrl: string;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly token: string;
  /** The app-level token, for Socket Mode. */
  readonly appToken: string;
  readonly workspace: SlackWorkspace;
  /** Every request, in order of arrival. */
  readonly calls: SlackCall[];
  /** Views opened, pushed, updated or published, by view ID; change `hash` to provoke a `hash_conflict`. */
  readonly views: Map<string, SlackView>;
  /** Messages posted by the bot (not ephemeral ones), in order. */
  readonly messages: SlackMessage[];
  callsTo(method: string): SlackCall[];
  /** The first recorded call to `method` that matches, or the next one to arrive; rejects after `timeoutMs`. */
  waitFor(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** Overrides `method` until `reset()`. */
  respond(method: string, handler: SlackHandler): void;
  /** Fails the next call to `method` (faults queue up, one per call), then the method behaves again. */
  failNext(method: string, fault: SlackFault): void;
  /** A response URL on this double; POSTs to it are recorded as `response_url:<id>` and answered 200 "ok" (400 and the error for blocks Slack refuses; 404 past five uses or 30 minutes). */
  responseUrl(id: string): string;
  /** Clears calls, overrides and pending faults (the workspace, views, messages and response URLs' uses stay). */
  reset(): void;
  stop(): Promise<void>;
}
