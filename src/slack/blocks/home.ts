import type { HomeView, KnownBlock } from "@slack/types";
import { isStuckPending, type ShareOpen, type ShareRecord } from "../../domain/share.js";
import { slackDate, splitKey } from "../format.js";
import { EXTEND_ACTION, HOME_FILTER_ACTION, REVOKE_ACTION, SHARE_AGAIN_ACTION } from "../ids.js";
import { escapeWithin, LIMIT, mrkdwn, plain } from "./kit.js";

/** Two blocks a share, and Slack allows 100 in a view. */
export const HOME_SHARES = 40;

const STATE_TEXT: Record<ShareRecord["state"], string> = {
  pending: ":hourglass_flowing_sand: posting",
  active: ":large_green_circle: active",
  revoked: ":no_entry: revoked",
  expired: ":white_circle: expired",
  failed: ":warning: not posted",
};

const where = (share: ShareRecord): string =>
  share.mode === "ephemeral" ? `shown to you in <#${share.channelId}>` : `in <#${share.channelId}>`;

/** A share Handout stopped posting (a crash): whether its links went out is not known. */
const NOT_CONFIRMED = ":warning: not confirmed: Handout stopped while posting, so the links may be out";

/** People named in a share's line of opens; the rest are counted. */
const OPENERS_NAMED = 10;

/** A members-only share's opens in one line: how many, by whom, the last one. Empty for other shares. */
export function opensLine(share: ShareRecord, opens: readonly ShareOpen[] | undefined): string {
  if (share.access !== "members") return "";
  const who = share.mode === "ephemeral" ? "only you can open" : "only people in the conversation can open";
  if (!opens || opens.length === 0) return `\n:lock: ${who} · not opened yet`;
  const people = [...new Set(opens.map((open) => open.userId))];
  const named = people.slice(0, OPENERS_NAMED).map((id) => `<@${id}>`);
  const more = people.length > OPENERS_NAMED ? ` and ${people.length - OPENERS_NAMED} more` : "";
  const last = opens[opens.length - 1] as ShareOpen;
  const count = opens.length === 1 ? "once" : `${opens.length} times`;
  return `\n:lock: ${who} · opened ${count} by ${named.join(", ")}${more} · last ${slackDate(last.at)}`;
}

function shareBlocks(
  share: ShareRecord,
  viewerId: string,
  now: Date,
  opens: readonly ShareOpen[] | undefined,
): KnownBlock[] {
  const names = share.keys.map((key) => escapeWithin(splitKey(key).name, 120));
  const files =
    names.length <= 3 ? names.join(", ") : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
  const live = (share.state === "active" || share.state === "pending") && share.expiresAt > now;
  const by = share.sharerId === viewerId ? "" : ` · by <@${share.sharerId}>`;
  const ends = live
    ? `expires ${slackDate(share.expiresAt)}`
    : `ended ${slackDate(share.revokedAt ?? share.expiresAt)}`;
  const extended = share.replacedBy ? " · extended" : "";
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: mrkdwn(
        `*${share.title ? `${escapeWithin(share.title, LIMIT.header)}: ` : ""}${files}*\n${where(share)}${by} · ${isStuckPending(share, now) ? NOT_CONFIRMED : STATE_TEXT[share.state]}${extended} · ${ends}${opensLine(share, opens)}`,
      ),
    },
  ];
  const buttons = [];
  if (live) {
    // An extended share's own links still open until they expire: it can still be revoked.
    if (!share.replacedBy) {
      buttons.push({
        type: "button" as const,
        action_id: EXTEND_ACTION,
        text: plain("Extend"),
        value: share.id,
      });
    }
    buttons.push({
      type: "button" as const,
      action_id: REVOKE_ACTION,
      text: plain("Revoke"),
      style: "danger" as const,
      value: share.id,
      confirm: {
        title: plain("Revoke these links?"),
        text: mrkdwn("Anyone who has them will no longer be able to open them. This cannot be undone."),
        confirm: plain("Revoke"),
        deny: plain("Keep them"),
        style: "danger" as const,
      },
    });
  } else if (share.state === "expired" && !share.replacedBy) {
    buttons.push({
      type: "button" as const,
      action_id: SHARE_AGAIN_ACTION,
      text: plain("Share again"),
      value: share.id,
    });
  }
  if (buttons.length > 0) blocks.push({ type: "actions", block_id: `share_${share.id}`, elements: buttons });
  return blocks;
}

export interface HomeInput {
  readonly viewerId: string;
  readonly shares: readonly ShareRecord[];
  readonly isAdmin: boolean;
  /** For admins: whose links are shown (undefined: everyone's). */
  readonly filterUserId: string | undefined;
  /** A line at the top: what just happened. */
  readonly notice: string | undefined;
  readonly now: Date;
  /** The opens of the members-only shares shown, by share id (oldest first). */
  readonly opens?: ReadonlyMap<string, readonly ShareOpen[]> | undefined;
}

/** App Home: "Your links" — or, for admins, everyone's, filterable by person. */
export function homeView(input: HomeInput): HomeView {
  const blocks: KnownBlock[] = [
    { type: "header", text: plain(input.isAdmin && !input.filterUserId ? "All links" : "Your links") },
  ];
  if (input.notice) blocks.push({ type: "section", text: mrkdwn(input.notice) });
  if (input.isAdmin) {
    blocks.push({
      type: "actions",
      block_id: "home_filter",
      elements: [
        {
          type: "users_select",
          action_id: HOME_FILTER_ACTION,
          placeholder: plain("Everyone's links"),
          ...(input.filterUserId ? { initial_user: input.filterUserId } : {}),
        },
      ],
    });
    blocks.push({
      type: "context",
      elements: [mrkdwn("You are an admin: you can see, extend and revoke everyone's links.")],
    });
  }
  blocks.push({ type: "divider" });
  if (input.shares.length === 0) {
    blocks.push({
      type: "section",
      text: mrkdwn("Nothing shared yet. Type `/share` in any conversation to share a file."),
    });
  }
  for (const share of input.shares.slice(0, HOME_SHARES))
    blocks.push(...shareBlocks(share, input.viewerId, input.now, input.opens?.get(share.id)));
  if (input.shares.length > HOME_SHARES) {
    blocks.push({
      type: "context",
      elements: [mrkdwn(`Showing the newest ${HOME_SHARES}. \`handout audit\` exports them all.`)],
    });
  }
  return { type: "home", blocks };
}
