import type { KnownBlock } from "@slack/types";
import type { Share } from "../../domain/ports.js";
import { shortenMiddle } from "../../domain/search.js";
import { escapeMrkdwn, formatSize, slackDate, splitKey } from "../format.js";

/** Slack's limit on a button's URL; longer links go into a rich-text link instead. */
const MAX_BUTTON_URL = 3000;
const MAX_NAME_SHOWN = 200;

/** Slack's limit on a text object; escaping can lengthen a text that was within its own limit. */
const MAX_TEXT = 3000;
const mrkdwn = (text: string) => ({ type: "mrkdwn" as const, text: shortenMiddle(text, MAX_TEXT) });

function fileBlocks(share: Share): KnownBlock[] {
  return share.files.flatMap(({ file, link }, i): KnownBlock[] => {
    const { name, folder } = splitKey(file.key);
    const text = `*${escapeMrkdwn(shortenMiddle(name, MAX_NAME_SHOWN))}*\n${escapeMrkdwn(
      shortenMiddle(folder || "(top level)", MAX_NAME_SHOWN),
    )} · ${formatSize(file.size)}`;
    if (link.url.length <= MAX_BUTTON_URL) {
      return [
        {
          type: "section",
          text: mrkdwn(text),
          accessory: {
            type: "button",
            action_id: `download_${i}`,
            text: { type: "plain_text", text: "Download" },
            url: link.url,
          },
        },
      ];
    }
    return [
      { type: "section", text: mrkdwn(text) },
      {
        type: "rich_text",
        elements: [
          { type: "rich_text_section", elements: [{ type: "link", url: link.url, text: "Download" }] },
        ],
      },
    ];
  });
}

const fileCount = (share: Share): string =>
  share.files.length === 1
    ? escapeMrkdwn(splitKey(share.files[0]?.file.key ?? "").name)
    : `${share.files.length} files`;

/** The notification text: it names the files, never carries a link. */
export const shareText = (share: Share): string =>
  share.announcement
    ? `${escapeMrkdwn(share.announcement.title)}: ${fileCount(share)} from <@${share.sharerId}>`
    : `<@${share.sharerId}> shared ${fileCount(share)} (link expires ${slackDate(share.expiresAt)})`;

export function shareBlocks(share: Share): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const { announcement } = share;
  if (announcement) {
    blocks.push({ type: "header", text: { type: "plain_text", text: announcement.title, emoji: true } });
    const mention = announcement.mention === "none" ? "" : `<!${announcement.mention}> `;
    if (mention || announcement.message.trim()) {
      blocks.push({
        type: "section",
        text: mrkdwn(`${mention}${escapeMrkdwn(announcement.message.trim())}`.trim()),
      });
    }
  }
  blocks.push({
    type: "context",
    elements: [
      mrkdwn(
        `<@${share.sharerId}> shared ${share.files.length === 1 ? "a file" : `${share.files.length} files`} · link${share.files.length === 1 ? "" : "s"} expire ${slackDate(share.expiresAt)}`,
      ),
    ],
  });
  if (share.note)
    blocks.push({ type: "section", text: mrkdwn(`>${escapeMrkdwn(share.note).replace(/\n/g, "\n>")}`) });
  blocks.push(...fileBlocks(share));
  return blocks;
}
