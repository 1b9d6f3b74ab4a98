import { type Body, fail, flag, text } from "./args.js";
import type { DoubleState, Methods } from "./state.js";
import type { SlackChannel } from "./types.js";

/** Channels and DMs as the bot sees them, and the conversations.* methods. */
export function conversations(state: DoubleState) {
  const { workspace } = state;

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

  const methods: Methods = {
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

  return { conversation, isMember, visible, cannotPost, channelInfo, methods };
}

export type Conversations = ReturnType<typeof conversations>;
