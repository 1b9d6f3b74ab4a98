import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import type { ShareRecord } from "../../domain/ledger.js";
import type { MessageEdit, Posted, ShareMessages } from "../../domain/ports.js";
import { mrkdwn } from "../blocks/kit.js";
import {
  expiredBlocks,
  expiresSoonBlocks,
  expiresSoonText,
  replacedBlocks,
  revokedBlocks,
} from "../blocks/share-state.js";

/**
 * Edits a share's message as its state changes. Only messages Handout posted itself can be edited:
 * ephemeral ones and replies through a response URL have no timestamp to edit by. A share posted as
 * several messages has its first edited to the new state, and the others lose their links too.
 */
export function slackShareMessages(client: WebClient, now: () => Date): ShareMessages {
  const edit = async (share: ShareRecord, text: string, blocks: KnownBlock[]): Promise<MessageEdit> => {
    const message = share.message;
    if (!message) return "unknown";
    if (!message.ts || (message.via !== "message" && message.via !== "direct_message")) return "not_editable";
    await client.chat.update({ channel: message.channelId, ts: message.ts, text, blocks });
    for (const ts of message.followUps ?? []) {
      await client.chat.update({
        channel: message.channelId,
        ts,
        text,
        blocks: [{ type: "context", elements: [mrkdwn(`${text}: see the message above.`)] }],
      });
    }
    return "edited";
  };
  return {
    revoked: (share, by) => edit(share, `Links revoked by <@${by}>`, revokedBlocks(share, by, now())),
    async expired(share) {
      await edit(share, "These links have expired", expiredBlocks(share));
    },
    async replaced(share, replacement: Posted) {
      let permalink: string | undefined;
      if (replacement.ts) {
        permalink = (
          await client.chat
            .getPermalink({ channel: replacement.channelId, message_ts: replacement.ts })
            .catch(() => undefined)
        )?.permalink;
      }
      await edit(share, "These links were extended", replacedBlocks(share, permalink));
    },
    async expiresSoon(share) {
      // Posted to the person's ID: it lands in their direct messages with Handout.
      await client.chat.postMessage({
        channel: share.sharerId,
        text: expiresSoonText(share),
        blocks: expiresSoonBlocks(share),
        unfurl_links: false,
        unfurl_media: false,
      });
    },
  };
}
