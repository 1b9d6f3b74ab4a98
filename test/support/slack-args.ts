import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  LogLevel,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewOutput,
  ViewSubmitAction,
} from "@slack/bolt";
import type { WebClient } from "@slack/web-api";

/**
 * Typed arguments for a listener called as a plain function, the way Bolt builds them: each builder
 * returns what Bolt passes, with `ack` and the Web API client recording what the listener did.
 */

/** A Web API call a listener made, with its arguments. */
export interface ClientCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
}

/** A Web API client that answers every call `ok` and remembers it; `views.open` names the view `V0OPENED`. */
export function recordingClient(): {
  client: WebClient;
  calls: ClientCall[];
  callsTo: (method: string) => ClientCall[];
} {
  const calls: ClientCall[] = [];
  const method =
    (name: string, answer: Record<string, unknown> = {}) =>
    async (args: Record<string, unknown>) => {
      calls.push({ method: name, args });
      return { ok: true, ...answer };
    };
  const client = {
    views: {
      open: method("views.open", { view: { id: "V0OPENED" } }),
      update: method("views.update"),
      publish: method("views.publish"),
    },
    chat: { postEphemeral: method("chat.postEphemeral"), postMessage: method("chat.postMessage") },
  };
  return {
    client: client as unknown as WebClient,
    calls,
    callsTo: (name) => calls.filter((call) => call.method === name),
  };
}

/** What a listener passed to `ack`, in order. */
export type Acks = unknown[];

function middleware(client: WebClient): AllMiddlewareArgs {
  return {
    context: { isEnterpriseInstall: false },
    logger: {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {},
      setLevel: () => {},
      // A type-only import: loading Bolt itself would cost the unit tier seconds.
      getLevel: () => "error" as LogLevel,
      setName: () => {},
    },
    client,
    next: async () => {},
  };
}

/** A modal's state values, as Slack sends them: `{ block: { action: value } }`. */
export type StateValues = ViewOutput["state"]["values"];

export function dummyView(overrides: Partial<ViewOutput> = {}): ViewOutput {
  return {
    id: "V0SUBMITTED",
    callback_id: "handout_share",
    team_id: "T0TEAM",
    app_id: "A0HANDOUT",
    bot_id: "B0HANDOUT",
    title: { type: "plain_text", text: "Share files" },
    type: "modal",
    blocks: [],
    close: null,
    submit: null,
    state: { values: {} },
    hash: "1700000000.abcdef",
    private_metadata: "",
    root_view_id: null,
    previous_view_id: null,
    clear_on_close: false,
    notify_on_close: false,
    ...overrides,
  };
}

/** The arguments of a view submission by `userId` of a modal with these state values and metadata. */
export function viewSubmissionArgs(input: {
  userId: string;
  privateMetadata: string;
  values: StateValues;
  callbackId?: string;
}): {
  args: AllMiddlewareArgs & SlackViewMiddlewareArgs;
  acks: Acks;
  client: ReturnType<typeof recordingClient>;
} {
  const acks: Acks = [];
  const client = recordingClient();
  const view = dummyView({
    private_metadata: input.privateMetadata,
    state: { values: input.values },
    ...(input.callbackId ? { callback_id: input.callbackId } : {}),
  });
  const body: ViewSubmitAction = {
    type: "view_submission",
    team: { id: "T0TEAM", domain: "handout-test" },
    user: { id: input.userId, name: input.userId.toLowerCase() },
    view,
    api_app_id: "A0HANDOUT",
    token: "verification-token",
    trigger_id: "1337.42.trigger",
  };
  const args: AllMiddlewareArgs & SlackViewMiddlewareArgs = {
    ...middleware(client.client),
    payload: view,
    view,
    body,
    ack: async (response?: unknown) => {
      acks.push(response);
    },
    respond: async () => ({}) as never,
  };
  return { args, acks, client };
}

/** The arguments of a click by `userId` on a button whose value is `value`, in App Home or in a message. */
export function buttonArgs(input: {
  userId: string;
  actionId: string;
  value: string | undefined;
  where: "home" | { channelId: string };
}): {
  args: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;
  acks: Acks;
  client: ReturnType<typeof recordingClient>;
} {
  const acks: Acks = [];
  const client = recordingClient();
  const action: ButtonAction = {
    type: "button",
    action_id: input.actionId,
    block_id: "share_actions",
    action_ts: "1700000000.000100",
    text: { type: "plain_text", text: "Button" },
    ...(input.value === undefined ? {} : { value: input.value }),
  };
  const body: BlockAction<ButtonAction> = {
    type: "block_actions",
    actions: [action],
    team: { id: "T0TEAM", domain: "handout-test" },
    user: { id: input.userId, username: input.userId.toLowerCase() },
    token: "verification-token",
    response_url: "https://hooks.slack.com/actions/T0TEAM/1/x",
    trigger_id: "1337.42.trigger",
    api_app_id: "A0HANDOUT",
    container: input.where === "home" ? { type: "view" } : { type: "message" },
    ...(input.where === "home"
      ? { view: dummyView({ type: "home", callback_id: "" }) }
      : { channel: { id: input.where.channelId, name: "general" } }),
  };
  const args: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>> = {
    ...middleware(client.client),
    payload: action,
    action,
    body,
    ack: async () => {
      acks.push(undefined);
    },
    respond: async () => ({}) as never,
    say: async () => ({}) as never,
  };
  return { args, acks, client };
}

const option = (value: string) => ({ text: { type: "plain_text" as const, text: value }, value });

/** The expiry fields of a form: a preset in seconds, or a date and time picked (seconds since the epoch). */
export function expiryValues(choice: { expirySeconds?: number; at?: number }): StateValues {
  return {
    expiry: {
      expiry_input: {
        type: "static_select",
        selected_option: choice.expirySeconds === undefined ? null : option(String(choice.expirySeconds)),
      },
    },
    expiry_at: { expiry_at_input: { type: "datetimepicker", selected_date_time: choice.at ?? null } },
  } as StateValues;
}

/** The share form's state values, as a person filled it in; files by key (short keys travel as `k:…`). */
export function shareFormValues(choice: {
  files: readonly string[];
  expirySeconds?: number;
  at?: number;
  channel?: string;
  how?: "post" | "ephemeral" | "announce";
  title?: string;
  message?: string;
  note?: string;
}): StateValues {
  return {
    files: {
      files_input: {
        type: "multi_external_select",
        selected_options: choice.files.map((key) => option(`k:${key}`)),
      },
    },
    ...expiryValues({
      expirySeconds: choice.expirySeconds ?? 86_400,
      ...(choice.at ? { at: choice.at } : {}),
    }),
    destination: {
      destination_input: {
        type: "conversations_select",
        selected_conversation: choice.channel ?? "C0GENERAL",
      },
    },
    how: { how_input: { type: "radio_buttons", selected_option: option(choice.how ?? "post") } },
    note: { note_input: { type: "plain_text_input", value: choice.note ?? null } },
    title: { title_input: { type: "plain_text_input", value: choice.title ?? null } },
    message: { message_input: { type: "plain_text_input", value: choice.message ?? null } },
  } as StateValues;
}
