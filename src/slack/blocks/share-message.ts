import type { KnownBlock } from "@slack/types";
import type { Share } from "../../domain/ports.js";
import { escapeMrkdwn, formatSize, slackDate, splitKey } from "../format.js";
import { escapeWithin, LIMIT, mrkdwn, plain } from "./kit.js";

/** Slack's limit on a button's URL; longer links go into a rich-text link instead. */
const MAX_BUTTON_URL = 3000;
const MAX_NAME_SHOWN = 200;
/** Slack's limit on blocks a message. */
const MAX_BLOCKS = 50;
/**
 * Slack refuses a message whose blocks carry more than about 12,000 characters (`msg_blocks_too_long`,
 * not in the reference): each message stays under this, with room for what Slack adds.
 */
export const MAX_MESSAGE_CHARACTERS = 11_000;

/** One Slack message of a share: the notification text and its blocks. */
export interface ShareMessagePart {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

function fileBlocks(share: Share): KnownBlock[][] {
  return share.files.map(({ file, link }, i): KnownBlock[] => {
    const { name, folder } = splitKey(file.key);
    const text = `*${escapeWithin(name, MAX_NAME_SHOWN)}*\n${escapeWithin(
      folder || "(top level)",
      MAX_NAME_SHOWN,
    )} · ${formatSize(file.size)}`;
    if (link.url.length <= MAX_BUTTON_URL) {
      return [
        {
          type: "section",
          text: mrkdwn(text),
          accessory: {
            type: "button",
            action_id: `download_${i}`,
            text: plain("Download", LIMIT.button),
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

/** Said on a members-only share's message, so that nobody forwards a link expecting it to open elsewhere. */
export function whoCanOpen(share: Pick<Share, "access" | "mode" | "sharerId">): string {
  if (share.access !== "members") return "";
  return share.mode === "ephemeral"
    ? ` · only <@${share.sharerId}> can open them`
    : " · only people in this conversation can open them, after signing in with Slack";
}

function headBlocks(share: Share): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const { announcement } = share;
  if (announcement) {
    blocks.push({ type: "header", text: plain(announcement.title, LIMIT.header) });
    const mention = announcement.mention === "none" ? "" : `<!${announcement.mention}> `;
    if (mention || announcement.message.trim()) {
      blocks.push({
        type: "section",
        text: mrkdwn(
          `${mention}${escapeWithin(announcement.message.trim(), LIMIT.section - mention.length)}`.trim(),
        ),
      });
    }
  }
  blocks.push({
    type: "context",
    elements: [
      mrkdwn(
        `<@${share.sharerId}> shared ${share.files.length === 1 ? "a file" : `${share.files.length} files`} · link${share.files.length === 1 ? "" : "s"} expire ${slackDate(share.expiresAt)}${whoCanOpen(share)}`,
      ),
    ],
  });
  if (share.note) {
    // Escaped first, so that the quote marks added to each line are counted too.
    const quoted = `>${escapeMrkdwn(share.note).replace(/\n/g, "\n>")}`;
    blocks.push({ type: "section", text: mrkdwn(quoted) });
  }
  return blocks;
}

const continued = (share: Share, part: number): KnownBlock => ({
  type: "context",
  elements: [
    mrkdwn(
      `More of the files <@${share.sharerId}> shared (part ${part}) · expire ${slackDate(share.expiresAt)}`,
    ),
  ],
});

const size = (blocks: readonly KnownBlock[]): number => JSON.stringify(blocks).length;

/**
 * The share as one message, or several when its files' links do not fit in one (ten signed URLs of
 * 1,024-byte keys are over 30,000 characters): a file is never split across messages, and each
 * message after the first says what it continues. Each block is within Slack's limits on its own.
 */
export function shareMessages(share: Share): ShareMessagePart[] {
  const parts: KnownBlock[][] = [[]];
  for (const group of [...headBlocks(share).map((block) => [block]), ...fileBlocks(share)]) {
    const current = parts[parts.length - 1] as KnownBlock[];
    const fits =
      current.length + group.length <= MAX_BLOCKS && size([...current, ...group]) <= MAX_MESSAGE_CHARACTERS;
    if (fits) current.push(...group);
    else parts.push([continued(share, parts.length + 1), ...group]);
  }
  return parts.map((blocks, i) => ({
    text: i === 0 ? shareText(share) : `More of the files <@${share.sharerId}> shared (part ${i + 1})`,
    blocks,
  }));
}
