import type { KnownBlock } from "@slack/types";
import type { ShareRecord } from "../../domain/share.js";
import { escapeMrkdwn, slackDate, splitKey } from "../format.js";
import { EXTEND_ACTION, SHARE_AGAIN_ACTION } from "../ids.js";
import { escapeWithin, LIMIT, mrkdwn, plain } from "./kit.js";

/** The most of a name shown (keys may be 1,024 bytes). */
const MAX_NAME = 200;

/** The share's file names, one a line, within `max` characters however long (or `&`-heavy) they are. */
export function fileList(share: ShareRecord, max: number = LIMIT.section): string {
  const each = Math.min(MAX_NAME, Math.floor(max / Math.max(1, share.keys.length)) - 3);
  return share.keys.map((key) => `• ${escapeWithin(splitKey(key).name, each)}`).join("\n");
}

/** The share's file names, and a button that acts on the share. */
const filesWithButton = (share: ShareRecord, actionId: string, label: string): KnownBlock => ({
  type: "section",
  text: mrkdwn(fileList(share)),
  accessory: {
    type: "button",
    action_id: actionId,
    text: plain(label, LIMIT.button),
    value: share.id,
  },
});

const header = (share: ShareRecord): KnownBlock[] =>
  share.title ? [{ type: "header", text: plain(share.title, LIMIT.header) }] : [];

/** A share's message once revoked: the names stay, the links go. */
export function revokedBlocks(share: ShareRecord, by: string, at: Date): KnownBlock[] {
  return [
    ...header(share),
    {
      type: "context",
      elements: [
        mrkdwn(
          `<@${share.sharerId}> shared ${share.keys.length === 1 ? "a file" : `${share.keys.length} files`} · :no_entry: revoked by <@${by}> ${slackDate(at)}`,
        ),
      ],
    },
    { type: "section", text: mrkdwn(fileList(share)) },
  ];
}

/** A share's message once its links expired, with a way for the sharer to share again. */
export function expiredBlocks(share: ShareRecord): KnownBlock[] {
  return [
    ...header(share),
    {
      type: "context",
      elements: [
        mrkdwn(
          `<@${share.sharerId}> shared ${share.keys.length === 1 ? "a file" : `${share.keys.length} files`} · the link${share.keys.length === 1 ? "" : "s"} expired ${slackDate(share.expiresAt)}`,
        ),
      ],
    },
    filesWithButton(share, SHARE_AGAIN_ACTION, "Share again"),
  ];
}

/** A share's message once extended: it points to the message with the new links. */
export function replacedBlocks(share: ShareRecord, permalink: string | undefined): KnownBlock[] {
  const where = permalink ? `<${permalink}|the newer message>` : "a newer message in this conversation";
  return [
    ...header(share),
    {
      type: "context",
      elements: [
        mrkdwn(
          `<@${share.sharerId}> shared ${share.keys.length === 1 ? "a file" : `${share.keys.length} files`} · :arrows_counterclockwise: extended: the current link${share.keys.length === 1 ? " is" : "s are"} in ${where}`,
        ),
      ],
    },
    { type: "section", text: mrkdwn(fileList(share)) },
  ];
}

/** What an announcement's sharer reads, directly, shortly before its links expire: with Extend. */
export function expiresSoonText(share: ShareRecord): string {
  const what = share.title ? `Your announcement “${escapeMrkdwn(share.title)}”` : "Your announcement";
  return `${what} in <#${share.channelId}> stops opening ${slackDate(share.expiresAt)}.`;
}

export function expiresSoonBlocks(share: ShareRecord): KnownBlock[] {
  return [
    { type: "section", text: mrkdwn(`:hourglass_flowing_sand: ${expiresSoonText(share)}`) },
    filesWithButton(share, EXTEND_ACTION, "Extend"),
    {
      type: "context",
      elements: [mrkdwn("Extend announces these files there again with new links, without the @-mention.")],
    },
  ];
}

export function followUpBlocks(text: string): KnownBlock[] {
  return [{ type: "context", elements: [mrkdwn(`${text}: see the message above.`)] }];
}

/** The views `slackShareMessages` edits a share's messages to. */
export const shareStateViews = {
  revoked: revokedBlocks,
  expired: expiredBlocks,
  replaced: replacedBlocks,
  expiresSoonText,
  expiresSoon: expiresSoonBlocks,
  followUp: followUpBlocks,
};
