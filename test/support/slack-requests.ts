import { createHmac, randomBytes } from "node:crypto";

/**
 * Requests to a running Bolt HTTP receiver, signed and shaped as Slack sends them, and builders for the
 * interaction payloads they carry.
 */

export interface SlackHttpResponse {
  status: number;
  /** Parsed when the answer is JSON, else the text ("" for an empty ack). */
  body: unknown;
  headers: Record<string, string>;
}

export interface SlackRequestsOptions {
  /** http://127.0.0.1:PORT of the app. */
  baseUrl: string;
  signingSecret: string;
  /** Default "/slack/events". */
  path?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  botId?: string;
  /** The deprecated verification token Slack still sends. */
  verificationToken?: string;
  /**
   * Builds the response_url put in commands and message actions, e.g. `(id) => double.responseUrl(id)`.
   * Without it they point at a closed loopback port, never at hooks.slack.com.
   */
  responseUrl?: (id: string) => string;
}

/** A user ID, or the user as it appears in payloads. */
export type SlackUserRef = string | { id: string; username?: string; name?: string; team_id?: string };

export interface SlashCommandFields {
  /** Default "/share". */
  command?: string;
  text?: string;
  user_id: string;
  channel_id: string;
  user_name?: string;
  channel_name?: string;
  trigger_id?: string;
  response_url?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  token?: string;
  [field: string]: string | undefined;
}

/** A view in a payload; what is left out is filled in as Slack would (pass a view the double returned). */
export type ViewInput = {
  id?: string;
  callback_id?: string;
  private_metadata?: string;
  state?: { values: Record<string, Record<string, unknown>> };
  hash?: string;
} & Record<string, unknown>;

export type ActionInput = { action_id: string; block_id?: string; type?: string; value?: string } & Record<
  string,
  unknown
>;

export type SlackPayload = Record<string, unknown>;

export interface SlackRequests {
  /** POSTs a slash command, form-encoded and signed. */
  command(fields: SlashCommandFields): Promise<SlackHttpResponse>;
  /** POSTs `payload=<json>` (block_actions, view_submission, view_closed, shortcut), signed. */
  interaction(payload: SlackPayload): Promise<SlackHttpResponse>;
  /** POSTs a block_suggestion as `payload=<json>`, signed. */
  options(payload: SlackPayload): Promise<SlackHttpResponse>;
  /** POSTs `body` with exactly these headers (content-type defaults to form); nothing is signed for you. */
  rawPost(body: string, headers?: Record<string, string>): Promise<SlackHttpResponse>;
  /** The signing headers for `body` at `timestamp` (seconds; default now). */
  sign(body: string, timestamp?: number): Record<string, string>;
  /** The form body `command` would send (for forged-signature tests). */
  commandBody(fields: SlashCommandFields): string;
  /** The form body `interaction`/`options` would send. */
  payloadBody(payload: SlackPayload): string;

  viewSubmission(input: {
    user: SlackUserRef;
    view: ViewInput;
    team?: { id: string; domain: string };
  }): SlackPayload;
  viewClosed(input: { user: SlackUserRef; view: ViewInput; is_cleared?: boolean }): SlackPayload;
  blockSuggestion(input: {
    user: SlackUserRef;
    action_id: string;
    block_id?: string;
    value: string;
    view?: ViewInput;
    /** For a select menu in a message, when there is no view. */
    channel?: string | { id: string; name: string };
    container?: Record<string, unknown>;
  }): SlackPayload;
  globalShortcut(input: { user: SlackUserRef; callback_id: string; trigger_id?: string }): SlackPayload;
  blockActions(input: {
    user: SlackUserRef;
    actions: ActionInput[];
    /** For actions in a modal. */
    view?: ViewInput;
    /** For actions in a message (with `message` or its `message_ts`). */
    channel?: string | { id: string; name: string };
    message?: Record<string, unknown> & { ts: string };
    container?: Record<string, unknown>;
    trigger_id?: string;
    response_url?: string;
  }): SlackPayload;
  /** A fresh trigger_id in Slack's format. */
  triggerId(): string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, as Slack signs requests. */
export function slackSignature(signingSecret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

const FORM = "application/x-www-form-urlencoded";
let sequence = 0;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const actionTs = () => `${(Date.now() / 1000).toFixed(6)}`;

/** Slack's name for a conversation in payloads: DMs and old private groups have generic names. */
function channelRef(channel: string | { id: string; name: string }): { id: string; name: string } {
  if (typeof channel !== "string") return channel;
  if (channel.startsWith("D")) return { id: channel, name: "directmessage" };
  if (channel.startsWith("G")) return { id: channel, name: "privategroup" };
  return { id: channel, name: `channel-${channel.toLowerCase()}` };
}

export function slackRequests(options: SlackRequestsOptions): SlackRequests {
  const endpoint = `${options.baseUrl.replace(/\/+$/, "")}${options.path ?? "/slack/events"}`;
  const teamId = options.teamId ?? "T0001";
  const teamDomain = options.teamDomain ?? "handout-test";
  const apiAppId = options.apiAppId ?? "A0001";
  const botId = options.botId ?? "BBOT";
  const verificationToken = options.verificationToken ?? "legacy-verification-token";
  const team = { id: teamId, domain: teamDomain };

  const triggerId = () => `${++sequence}${Date.now()}.${teamId.replace(/\D/g, "") || "1"}.${hex(16)}`;
  const responseUrl = (kind: string) => {
    const id = `${kind}-${++sequence}-${hex(6)}`;
    return options.responseUrl ? options.responseUrl(id) : `http://127.0.0.1:9/${kind}/${teamId}/${id}`;
  };
  const userOf = (user: SlackUserRef) => {
    const ref = typeof user === "string" ? { id: user } : user;
    const username = ref.username ?? ref.name ?? ref.id.toLowerCase();
    return { id: ref.id, username, name: ref.name ?? username, team_id: ref.team_id ?? teamId };
  };
  const viewOf = (view: ViewInput): SlackPayload => {
    const id = view.id ?? `V${String(++sequence).padStart(8, "0")}`;
    return {
      id,
      team_id: teamId,
      type: "modal",
      blocks: [],
      private_metadata: "",
      callback_id: "",
      state: { values: {} },
      hash: `h${nowSeconds()}.${hex(4)}`,
      title: { type: "plain_text", text: "Handout", emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      previous_view_id: null,
      root_view_id: id,
      app_id: apiAppId,
      external_id: "",
      app_installed_team_id: teamId,
      bot_id: botId,
      ...view,
    };
  };
  const common = (user: SlackUserRef) => ({
    team,
    user: userOf(user),
    api_app_id: apiAppId,
    token: verificationToken,
    enterprise: null,
    is_enterprise_install: false,
  });

  const sign = (body: string, timestamp = nowSeconds()) => ({
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": slackSignature(options.signingSecret, timestamp, body),
  });

  async function rawPost(body: string, headers: Record<string, string> = {}): Promise<SlackHttpResponse> {
    const hasType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
    const response = await fetch(endpoint, {
      method: "POST",
      headers: hasType ? headers : { "content-type": FORM, ...headers },
      body,
    });
    const text = await response.text();
    const isJson = (response.headers.get("content-type") ?? "").includes("json");
    let parsed: unknown = text;
    if (isJson && text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, body: parsed, headers: Object.fromEntries(response.headers.entries()) };
  }

  const commandBody = (fields: SlashCommandFields): string => {
    const given = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const all: Record<string, string> = {
      token: verificationToken,
      team_id: teamId,
      team_domain: teamDomain,
      channel_id: fields.channel_id,
      channel_name: channelRef(fields.channel_id).name,
      user_id: fields.user_id,
      user_name: fields.user_id.toLowerCase(),
      command: "/share",
      text: "",
      api_app_id: apiAppId,
      is_enterprise_install: "false",
      response_url: responseUrl("commands"),
      trigger_id: triggerId(),
      ...Object.fromEntries(given),
    };
    return new URLSearchParams(all).toString();
  };
  const payloadBody = (payload: SlackPayload) =>
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const signedPost = (body: string) => rawPost(body, { "content-type": FORM, ...sign(body) });

  return {
    command: (fields) => signedPost(commandBody(fields)),
    interaction: (payload) => signedPost(payloadBody(payload)),
    options: (payload) => signedPost(payloadBody(payload)),
    rawPost,
    sign,
    commandBody,
    payloadBody,
    triggerId,

    viewSubmission: ({ user, view, team: submittedFrom }) => ({
      type: "view_submission",
      ...common(user),
      ...(submittedFrom ? { team: submittedFrom } : {}),
      trigger_id: triggerId(),
      view: viewOf(view),
      response_urls: [],
    }),

    viewClosed: ({ user, view, is_cleared = false }) => ({
      type: "view_closed",
      ...common(user),
      view: viewOf(view),
      is_cleared,
    }),

    blockSuggestion: ({ user, action_id, block_id = "block", value, view, channel, container }) => {
      const fullView = view ? viewOf(view) : undefined;
      const where = channel ? channelRef(channel) : undefined;
      return {
        type: "block_suggestion",
        ...common(user),
        container:
          container ??
          (fullView
            ? { type: "view", view_id: fullView.id }
            : { type: "message", message_ts: actionTs(), channel_id: where?.id ?? "", is_ephemeral: false }),
        action_id,
        block_id,
        value,
        ...(fullView ? { view: fullView } : {}),
        ...(where ? { channel: where } : {}),
      };
    },

    globalShortcut: ({ user, callback_id, trigger_id }) => {
      const { username, id, team_id } = userOf(user);
      return {
        type: "shortcut",
        token: verificationToken,
        action_ts: actionTs(),
        team,
        user: { id, username, team_id },
        is_enterprise_install: false,
        enterprise: null,
        callback_id,
        trigger_id: trigger_id ?? triggerId(),
      };
    },

    blockActions: ({ user, actions, view, channel, message, container, trigger_id, response_url }) => {
      const fullView = view ? viewOf(view) : undefined;
      const where = channel ? channelRef(channel) : undefined;
      const inMessage = !fullView && where !== undefined;
      const messageTs = message?.ts ?? actionTs();
      return {
        type: "block_actions",
        ...common(user),
        container:
          container ??
          (fullView
            ? { type: "view", view_id: fullView.id }
            : { type: "message", message_ts: messageTs, channel_id: where?.id ?? "", is_ephemeral: false }),
        trigger_id: trigger_id ?? triggerId(),
        ...(fullView ? { view: fullView } : {}),
        ...(where ? { channel: where } : {}),
        ...(inMessage
          ? {
              message: message ?? { type: "message", ts: messageTs, text: "", bot_id: botId, blocks: [] },
              state: { values: {} },
              response_url: response_url ?? responseUrl("actions"),
            }
          : {}),
        actions: actions.map((action) => ({
          type: "button",
          block_id: `block-${action.action_id}`,
          action_ts: actionTs(),
          ...action,
        })),
      };
    },
  };
}
