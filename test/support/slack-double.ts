import { EventEmitter } from "node:events";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Slack Web API double on loopback: the real WebClient (given `slackApiUrl: double.apiUrl`) makes real
 * HTTP round trips to it. It answers from a small, mutable workspace the way Slack does (HTTP 200 with
 * `{ ok: true, ... }` or `{ ok: false, error }`), records every call, and can be told to fail.
 *
 * Every method checks the token like Slack: none → `not_authed`, not `options.token` → `invalid_auth`.
 * Form-encoded arguments arrive as strings (`limit: "2"`, `include_users: "true"`); values that are JSON
 * objects or arrays (`view`, `blocks`, …) are parsed back. The `token` argument is moved to `call.token`.
 */

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
  /** A response URL on this double; POSTs to it are recorded as `response_url:<id>` and answered 200 "ok" (400 and the error for blocks Slack refuses). */
  responseUrl(id: string): string;
  /** Clears calls, overrides and pending faults (the workspace, views and messages stay). */
  reset(): void;
  stop(): Promise<void>;
}

type Args = Record<string, unknown>;
type Body = Record<string, unknown>;

const fail = (error: string, extra: Body = {}): Body => ({ ok: false, error, ...extra });
const invalidArguments = (message: string): Body =>
  fail("invalid_arguments", { response_metadata: { messages: [`[ERROR] ${message}`] } });

const text = (args: Args, key: string): string | undefined => {
  const value = args[key];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
};
const flag = (args: Args, key: string): boolean => {
  const value = args[key];
  return value === true || value === 1 || value === "true" || value === "1";
};
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON object or array in a form field is parsed back, as Slack does; anything else stays a string. */
function parseFormValue(value: string): unknown {
  const start = value.trimStart()[0];
  if (start !== "{" && start !== "[") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function parseArgs(
  contentType: string,
  raw: string,
  query: URLSearchParams,
): { args: Args; invalidJson: boolean } {
  const args: Args = {};
  for (const [key, value] of query) args[key] = parseFormValue(value);
  if (raw === "") return { args, invalidJson: false };
  if (contentType.includes("application/json")) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!isRecord(parsed)) return { args, invalidJson: true };
      return { args: { ...args, ...parsed }, invalidJson: false };
    } catch {
      return { args, invalidJson: true };
    }
  }
  for (const [key, value] of new URLSearchParams(raw)) args[key] = parseFormValue(value);
  return { args, invalidJson: false };
}

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
 * Slack's published Block Kit limits, measured as Slack measures: a text's length after `&`, `<` and `>`
 * are escaped. In mrkdwn, `<…>` is syntax and entities stay as sent, so only a bare `&` grows.
 */
export function slackTextLength(text: string, type: unknown): number {
  if (type === "mrkdwn") return text.replace(/&(?!amp;|lt;|gt;)/g, "&amp;").length;
  return text.replace(/&/g, "&amp;").replace(/[<>]/g, "&lt;").length;
}

/** Limits on text objects, by where they appear. */
const TEXT_LIMITS = {
  section: 3000,
  field: 2000,
  context: 3000,
  header: 150,
  button: 75,
  option: 75,
  description: 75,
  label: 2000,
  hint: 2000,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

const MESSAGE_BLOCKS = 50;
const VIEW_BLOCKS = 100;
/** Not in the reference: Slack answers `msg_blocks_too_long` above about this many characters of blocks. */
export const MESSAGE_BLOCKS_CHARACTERS = 12_000;

type Check = (value: unknown, at: string) => string | undefined;

function textProblem(value: unknown, at: string, limit: number, plainOnly = false): string | undefined {
  if (!isRecord(value) || typeof value.text !== "string") return `must be a text object [json-pointer:${at}]`;
  if (value.type !== "plain_text" && (plainOnly || value.type !== "mrkdwn")) {
    return `must be one of: ${plainOnly ? "plain_text" : "plain_text, mrkdwn"} [json-pointer:${at}/type]`;
  }
  if (value.text.length === 0) return `must be more than 0 characters [json-pointer:${at}/text]`;
  if (slackTextLength(value.text, value.type) > limit) {
    return `must be less than ${limit + 1} characters [json-pointer:${at}/text]`;
  }
  return undefined;
}

const optional = (value: unknown, check: () => string | undefined) =>
  value === undefined ? undefined : check();

const stringWithin = (value: unknown, at: string, limit: number) =>
  optional(value, () =>
    typeof value === "string" && value.length <= limit
      ? undefined
      : `must be a string of no more than ${limit} characters [json-pointer:${at}]`,
  );

const first = (...problems: (string | undefined)[]) => problems.find((problem) => problem !== undefined);

const each = (values: unknown, at: string, max: number, check: Check): string | undefined => {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) return `must be an array [json-pointer:${at}]`;
  if (values.length > max) return `no more than ${max} items allowed [json-pointer:${at}]`;
  return first(...values.map((value, i) => check(value, `${at}/${i}`)));
};

const confirmProblem: Check = (confirm, at) =>
  optional(confirm, () =>
    isRecord(confirm)
      ? first(
          textProblem(confirm.title, `${at}/title`, TEXT_LIMITS.confirmTitle, true),
          textProblem(confirm.text, `${at}/text`, TEXT_LIMITS.confirmText),
          textProblem(confirm.confirm, `${at}/confirm`, TEXT_LIMITS.confirmButton, true),
          textProblem(confirm.deny, `${at}/deny`, TEXT_LIMITS.confirmButton, true),
        )
      : `must be an object [json-pointer:${at}]`,
  );

const optionProblem: Check = (option, at) =>
  isRecord(option)
    ? first(
        textProblem(option.text, `${at}/text`, TEXT_LIMITS.option),
        optional(option.description, () =>
          textProblem(option.description, `${at}/description`, TEXT_LIMITS.description),
        ),
        typeof option.value === "string" && option.value.length <= 150
          ? undefined
          : `must be a string of no more than 150 characters [json-pointer:${at}/value]`,
      )
    : `must be an object [json-pointer:${at}]`;

const elementProblem: Check = (element, at) => {
  if (!isRecord(element)) return `must be an object [json-pointer:${at}]`;
  const common = first(
    stringWithin(element.action_id, `${at}/action_id`, 255),
    confirmProblem(element.confirm, `${at}/confirm`),
    optional(element.placeholder, () =>
      textProblem(element.placeholder, `${at}/placeholder`, TEXT_LIMITS.placeholder, true),
    ),
  );
  if (common) return common;
  switch (element.type) {
    case "button":
      return first(
        textProblem(element.text, `${at}/text`, TEXT_LIMITS.button, true),
        stringWithin(element.value, `${at}/value`, 2000),
        stringWithin(element.url, `${at}/url`, 3000),
      );
    case "static_select":
    case "multi_static_select":
    case "radio_buttons":
    case "checkboxes":
    case "overflow":
      return first(
        each(element.options, `${at}/options`, element.type === "overflow" ? 5 : 100, optionProblem),
        each(element.initial_options, `${at}/initial_options`, 100, optionProblem),
        optional(element.initial_option, () => optionProblem(element.initial_option, `${at}/initial_option`)),
      );
    case "external_select":
    case "multi_external_select":
      return first(
        each(element.initial_options, `${at}/initial_options`, 100, optionProblem),
        optional(element.initial_option, () => optionProblem(element.initial_option, `${at}/initial_option`)),
      );
    default:
      return undefined;
  }
};

const blockProblem: Check = (block, at) => {
  if (!isRecord(block) || typeof block.type !== "string") return `must be a block [json-pointer:${at}]`;
  const id = stringWithin(block.block_id, `${at}/block_id`, 255);
  if (id) return id;
  switch (block.type) {
    case "section":
      if (block.text === undefined && block.fields === undefined) {
        return `must provide either text or fields [json-pointer:${at}]`;
      }
      return first(
        optional(block.text, () => textProblem(block.text, `${at}/text`, TEXT_LIMITS.section)),
        each(block.fields, `${at}/fields`, 10, (field, fieldAt) =>
          textProblem(field, fieldAt, TEXT_LIMITS.field),
        ),
        optional(block.accessory, () => elementProblem(block.accessory, `${at}/accessory`)),
      );
    case "context":
      return each(block.elements, `${at}/elements`, 10, (element, elementAt) =>
        isRecord(element) && element.type === "image"
          ? undefined
          : textProblem(element, elementAt, TEXT_LIMITS.context),
      );
    case "header":
      return textProblem(block.text, `${at}/text`, TEXT_LIMITS.header, true);
    case "actions":
      return each(block.elements, `${at}/elements`, 25, elementProblem);
    case "input":
      return first(
        textProblem(block.label, `${at}/label`, TEXT_LIMITS.label, true),
        optional(block.hint, () => textProblem(block.hint, `${at}/hint`, TEXT_LIMITS.hint, true)),
        elementProblem(block.element, `${at}/element`),
      );
    default:
      return undefined;
  }
};

/** Slack's answer to a message's blocks: undefined when it would take them. */
function messageBlocksProblem(blocks: unknown): { error: string; message?: string } | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return { error: "invalid_blocks_format" };
  const problem = each(blocks, "/blocks", MESSAGE_BLOCKS, blockProblem);
  if (problem) return { error: "invalid_blocks", message: problem };
  if (JSON.stringify(blocks).length > MESSAGE_BLOCKS_CHARACTERS) return { error: "msg_blocks_too_long" };
  return undefined;
}

const VIEW_TEXT_LIMIT = 24;

/** The checks Slack makes on a modal, or on App Home (`type: "home"`, which has no title or buttons). */
function viewProblem(view: unknown, type: "modal" | "home" = "modal"): string | undefined {
  if (!isRecord(view)) return "failed to match all allowed schemas [json-pointer:/view]";
  if (view.type !== type) return `must be one of: ${type} [json-pointer:/view/type]`;
  for (const field of ["title", "submit", "close"] as const) {
    const value = view[field];
    if (value === undefined || value === null) {
      if (field === "title" && type === "modal") return "missing required field: title [json-pointer:/view]";
      continue;
    }
    if (!isRecord(value) || typeof value.text !== "string") {
      return `must be a text object [json-pointer:/view/${field}]`;
    }
    if (value.text.length > VIEW_TEXT_LIMIT) {
      return `must be less than ${VIEW_TEXT_LIMIT + 1} characters [json-pointer:/view/${field}/text]`;
    }
  }
  const blocks = each(view.blocks, "/view/blocks", VIEW_BLOCKS, blockProblem);
  if (blocks) return blocks;
  const limits = { private_metadata: 3000, callback_id: 255, external_id: 255 } as const;
  for (const [field, limit] of Object.entries(limits)) {
    const value = view[field];
    if (value !== undefined && (typeof value !== "string" || value.length > limit)) {
      return `must be a string of no more than ${limit} characters [json-pointer:/view/${field}]`;
    }
  }
  return undefined;
}

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
  const calls: SlackCall[] = [];
  const views = new Map<string, SlackView>();
  const messages: SlackMessage[] = [];
  const homes = new Map<string, SlackView>();
  const overrides = new Map<string, SlackHandler>();
  const faults = new Map<string, SlackFault[]>();
  const spentTriggers = new Set<string>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let counter = 0;
  let lastMicros = 0;

  const nextTs = (): string => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
  };
  const nextId = (prefix: string): string => `${prefix}${String(++counter).padStart(6, "0")}`;

  // ---- conversations -------------------------------------------------------------------------------

  /** A channel by ID or #name, or a user ID, which means the DM with that user (opened on first use). */
  function conversation(ref: string | undefined): SlackChannel | undefined {
    if (ref === undefined || ref === "") return undefined;
    const byId = workspace.channels.get(ref);
    if (byId) return byId;
    if (ref.startsWith("#")) {
      return [...workspace.channels.values()].find((channel) => channel.name === ref.slice(1));
    }
    const user = workspace.users.get(ref);
    if (!user || user.deleted) return undefined;
    const existing = [...workspace.channels.values()].find(
      (channel) => channel.is_im && channel.members.includes(user.id),
    );
    if (existing) return existing;
    const im: SlackChannel = {
      id: `D${user.id}`,
      name: user.id,
      is_im: true,
      members: [user.id, workspace.botUserId],
    };
    workspace.channels.set(im.id, im);
    return im;
  }

  const isMember = (channel: SlackChannel) => channel.members.includes(workspace.botUserId);
  /** Private channels and DMs the bot is not in do not exist as far as the bot can tell. */
  const visible = (channel: SlackChannel | undefined): channel is SlackChannel =>
    channel !== undefined && (isMember(channel) || !(channel.is_private || channel.is_im));

  /** Why the bot may not post in this conversation, or undefined if it may. */
  function cannotPost(channel: SlackChannel | undefined): string | undefined {
    if (!visible(channel)) return "channel_not_found";
    if (channel.is_archived) return "is_archived";
    if (!isMember(channel)) return "not_in_channel";
    return undefined;
  }

  function channelInfo(channel: SlackChannel, withCount: boolean): Body {
    if (channel.is_im) {
      return {
        id: channel.id,
        created: 1_600_000_000,
        is_im: true,
        is_org_shared: false,
        context_team_id: workspace.teamId,
        user: channel.members.find((member) => member !== workspace.botUserId) ?? workspace.botUserId,
        is_user_deleted: false,
        priority: 0,
      };
    }
    const isPrivate = channel.is_private === true;
    return {
      id: channel.id,
      name: channel.name,
      name_normalized: channel.name,
      is_channel: !isPrivate,
      is_group: isPrivate,
      is_im: false,
      is_mpim: false,
      is_private: isPrivate,
      is_archived: channel.is_archived === true,
      is_general: false,
      is_shared: channel.is_ext_shared === true,
      is_ext_shared: channel.is_ext_shared === true,
      is_org_shared: false,
      is_pending_ext_shared: false,
      is_member: isMember(channel),
      context_team_id: workspace.teamId,
      created: 1_600_000_000,
      creator: channel.members[0] ?? "",
      unlinked: 0,
      topic: { value: "", creator: "", last_set: 0 },
      purpose: { value: "", creator: "", last_set: 0 },
      ...(withCount ? { num_members: channel.members.length } : {}),
    };
  }

  // ---- messages ------------------------------------------------------------------------------------

  /** Slack's checks on message content, as its answer; undefined if fine. */
  function messageProblem(args: Args): Body | undefined {
    const blocks = args.blocks;
    const hasText = typeof args.text === "string" && args.text !== "";
    const problem = messageBlocksProblem(blocks);
    if (problem) {
      return fail(
        problem.error,
        problem.message ? { response_metadata: { messages: [`[ERROR] ${problem.message}`] } } : {},
      );
    }
    if (!hasText && !(Array.isArray(blocks) && blocks.length > 0) && args.attachments === undefined) {
      return fail("no_text");
    }
    if (typeof args.text === "string" && args.text.length > 40_000) return fail("msg_too_long");
    return undefined;
  }

  function messageBody(message: SlackMessage): Body {
    return {
      type: "message",
      text: message.text,
      user: message.user,
      bot_id: message.bot_id,
      app_id: workspace.appId,
      team: workspace.teamId,
      ts: message.ts,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      ...(message.edited ? { edited: message.edited } : {}),
    };
  }

  const findMessage = (channel: SlackChannel, ts: string | undefined) =>
    messages.find((message) => message.channel === channel.id && message.ts === ts);

  // ---- views ---------------------------------------------------------------------------------------

  /** A trigger (or interactivity pointer) works once; "expired" stands for one older than 3 seconds. */
  function checkTrigger(trigger: string | undefined): Body | undefined {
    if (trigger === undefined || trigger === "") {
      return invalidArguments("missing required field: trigger_id or interactivity_pointer");
    }
    if (trigger === "expired") return fail("expired_trigger_id");
    if (spentTriggers.has(trigger)) return fail("exchanged_trigger_id");
    return undefined;
  }

  function storeView(view: Record<string, unknown>, id: string, previous?: SlackView): SlackView {
    const stored: SlackView = {
      type: "modal",
      blocks: [],
      private_metadata: "",
      callback_id: "",
      external_id: previous?.external_id ?? "",
      state: { values: {} },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      ...view,
      id,
      team_id: workspace.teamId,
      hash: `h${Math.floor(Date.now() / 1000)}.${++counter}`,
      root_view_id: previous?.root_view_id ?? id,
      previous_view_id: previous?.previous_view_id ?? null,
      app_id: workspace.appId,
      app_installed_team_id: workspace.teamId,
      bot_id: workspace.botId,
    };
    views.set(id, stored);
    return stored;
  }

  function openView(args: Args): Body {
    const trigger = text(args, "trigger_id") ?? text(args, "interactivity_pointer");
    const triggerProblem = checkTrigger(trigger);
    if (triggerProblem) return triggerProblem;
    const problem = viewProblem(args.view);
    if (problem) return invalidArguments(problem);
    const view = args.view as Record<string, unknown>;
    const externalId = view.external_id;
    if (typeof externalId === "string" && externalId !== "") {
      if ([...views.values()].some((existing) => existing.external_id === externalId)) {
        return fail("duplicate_external_id");
      }
    }
    spentTriggers.add(trigger ?? "");
    return { ok: true, view: storeView(view, nextId("V")) };
  }

  // ---- methods -------------------------------------------------------------------------------------

  const methods: Record<string, (args: Args) => Body> = {
    "auth.test": () => ({
      ok: true,
      url: `https://${workspace.teamDomain}.slack.com/`,
      team: workspace.teamDomain,
      user: workspace.users.get(workspace.botUserId)?.name ?? "handout",
      team_id: workspace.teamId,
      user_id: workspace.botUserId,
      bot_id: workspace.botId,
      is_enterprise_install: false,
    }),

    "apps.connections.open": () =>
      workspace.socketModeUrl
        ? { ok: true, url: workspace.socketModeUrl }
        : // The double's own answer for an app without Socket Mode.
          fail("socket_mode_disabled"),

    "views.open": openView,
    "views.push": openView,
    "views.update": (args) => {
      const viewId = text(args, "view_id");
      const externalId = text(args, "external_id");
      if (!viewId && !externalId) return invalidArguments("either view_id or external_id is required");
      const existing = viewId
        ? views.get(viewId)
        : [...views.values()].find((view) => view.external_id === externalId);
      if (!existing) return fail("not_found");
      const problem = viewProblem(args.view);
      if (problem) return invalidArguments(problem);
      const hash = text(args, "hash");
      if (hash !== undefined && hash !== existing.hash) return fail("hash_conflict");
      return { ok: true, view: storeView(args.view as Record<string, unknown>, existing.id, existing) };
    },

    "views.publish": (args) => {
      const userId = text(args, "user_id");
      if (!userId || !workspace.users.has(userId)) return fail("user_not_found");
      const problem = viewProblem(args.view, "home");
      if (problem) return invalidArguments(problem);
      const existing = homes.get(userId);
      const hash = text(args, "hash");
      if (hash !== undefined && existing && hash !== existing.hash) return fail("hash_conflict");
      const view = storeView(args.view as Record<string, unknown>, existing?.id ?? nextId("V"), existing);
      homes.set(userId, view);
      return { ok: true, view };
    },

    "chat.postMessage": (args) => {
      const channel = conversation(text(args, "channel"));
      const cannot = cannotPost(channel);
      if (cannot || !channel) return fail(cannot ?? "channel_not_found");
      const problem = messageProblem(args);
      if (problem) return problem;
      const threadTs = text(args, "thread_ts");
      const message: SlackMessage = {
        channel: channel.id,
        ts: nextTs(),
        text: text(args, "text") ?? "",
        user: workspace.botUserId,
        bot_id: workspace.botId,
        pinned: false,
        ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      };
      messages.push(message);
      return { ok: true, channel: channel.id, ts: message.ts, message: messageBody(message) };
    },

    "chat.postEphemeral": (args) => {
      const channel = conversation(text(args, "channel"));
      const cannot = cannotPost(channel);
      if (cannot || !channel) return fail(cannot ?? "channel_not_found");
      const problem = messageProblem(args);
      if (problem) return problem;
      const user = text(args, "user");
      if (!user || !channel.members.includes(user)) return fail("user_not_in_channel");
      return { ok: true, message_ts: nextTs() };
    },

    "chat.update": (args) => {
      const channel = conversation(text(args, "channel"));
      if (!visible(channel)) return fail("channel_not_found");
      const message = findMessage(channel, text(args, "ts"));
      if (!message) return fail("message_not_found");
      if (message.bot_id !== workspace.botId) return fail("cant_update_message");
      const problem = messageProblem(args);
      if (problem) return problem;
      message.text = text(args, "text") ?? "";
      if (Array.isArray(args.blocks)) message.blocks = args.blocks;
      message.edited = { user: workspace.botUserId, ts: nextTs() };
      return {
        ok: true,
        channel: channel.id,
        ts: message.ts,
        text: message.text,
        message: messageBody(message),
      };
    },

    "pins.add": (args) => {
      const channel = conversation(text(args, "channel"));
      const problem = cannotPost(channel);
      if (problem || !channel) return fail(problem ?? "channel_not_found");
      const message = findMessage(channel, text(args, "timestamp"));
      if (!message) return fail("message_not_found");
      if (message.pinned) return fail("already_pinned");
      message.pinned = true;
      return { ok: true };
    },

    "users.info": (args) => {
      const user = workspace.users.get(text(args, "user") ?? "");
      if (!user) return fail("user_not_found");
      const realName = user.real_name ?? user.name;
      return {
        ok: true,
        user: {
          team_id: workspace.teamId,
          deleted: false,
          color: "9f69e7",
          tz: "Europe/London",
          tz_label: "Greenwich Mean Time",
          tz_offset: 0,
          is_admin: false,
          is_owner: false,
          is_primary_owner: false,
          is_restricted: false,
          is_ultra_restricted: false,
          is_bot: false,
          is_app_user: false,
          updated: 1_600_000_000,
          ...user,
          real_name: realName,
          profile: { real_name: realName, display_name: user.name, team: workspace.teamId },
        },
      };
    },

    "usergroups.list": (args) => {
      const includeUsers = flag(args, "include_users");
      const includeCount = flag(args, "include_count");
      return {
        ok: true,
        usergroups: [...workspace.usergroups.values()].map((group) => ({
          id: group.id,
          team_id: workspace.teamId,
          is_usergroup: true,
          is_subteam: true,
          name: group.name,
          description: "",
          handle: group.handle,
          is_external: false,
          date_create: 1_600_000_000,
          date_update: 1_600_000_000,
          date_delete: 0,
          auto_type: null,
          created_by: workspace.botUserId,
          updated_by: workspace.botUserId,
          deleted_by: null,
          prefs: { channels: [], groups: [] },
          ...(includeUsers ? { users: [...group.users] } : {}),
          ...(includeCount ? { user_count: group.users.length } : {}),
        })),
      };
    },

    "usergroups.users.list": (args) => {
      const group = workspace.usergroups.get(text(args, "usergroup") ?? "");
      if (!group) return fail("no_such_subteam");
      return { ok: true, users: [...group.users] };
    },

    "conversations.info": (args) => {
      const channel = conversation(text(args, "channel"));
      if (!visible(channel)) return fail("channel_not_found");
      return { ok: true, channel: channelInfo(channel, flag(args, "include_num_members")) };
    },

    "conversations.members": (args) => {
      const channel = conversation(text(args, "channel"));
      if (!visible(channel)) return fail("channel_not_found");
      const limit = Math.min(Math.max(Number(text(args, "limit") ?? 100) || 100, 1), 1000);
      const cursor = text(args, "cursor") ?? "";
      let offset = 0;
      if (cursor !== "") {
        const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
        if (!match) return fail("invalid_cursor");
        offset = Number(match[1]);
      }
      const page = channel.members.slice(offset, offset + limit);
      const more = offset + limit < channel.members.length;
      return {
        ok: true,
        members: page,
        response_metadata: {
          next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString("base64") : "",
        },
      };
    },

    "conversations.join": (args) => {
      const channel = workspace.channels.get(text(args, "channel") ?? "");
      if (!channel) return fail("channel_not_found");
      if (channel.is_im || channel.is_private) return fail("method_not_supported_for_channel_type");
      if (channel.is_archived) return fail("is_archived");
      if (isMember(channel)) {
        return {
          ok: true,
          channel: channelInfo(channel, false),
          warning: "already_in_channel",
          response_metadata: { warnings: ["already_in_channel"] },
        };
      }
      channel.members.push(workspace.botUserId);
      return { ok: true, channel: channelInfo(channel, false) };
    },
  };

  function defaultReply(call: SlackCall, invalidJson: boolean): SlackReply {
    if (call.method.startsWith("response_url:")) {
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
    responseUrl: (id) => `${url}/response/${encodeURIComponent(id)}`,
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
