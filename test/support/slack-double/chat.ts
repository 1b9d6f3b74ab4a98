import { type Args, type Body, fail, text } from "./args.js";
import type { Conversations } from "./conversations.js";
import { messageBlocksProblem } from "./limits.js";
import type { DoubleState, Methods } from "./state.js";
import type { SlackChannel, SlackMessage } from "./types.js";

/** Posting, editing and pinning messages: chat.* and pins.add. */
export function chat(state: DoubleState, { conversation, cannotPost, visible }: Conversations): Methods {
  const { workspace, messages, nextTs } = state;

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

  return {
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
  };
}
