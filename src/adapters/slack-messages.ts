import type { WebClient } from "@slack/web-api";
import type { ShareRecord } from "../domain/ledger.js";
import type { Posted, ShareMessages } from "../domain/ports.js";
import {
  expiredBlocks,
  expiresSoonBlocks,
  expiresSoonText,
  replacedBlocks,
  revokedBlocks,
} from "../slack/blocks/share-state.js";

/**
 * Edits a share's message as its state changes. Only messages Handout posted itself can be edited:
 * ephemeral ones and replies through a response URL have no timestamp to edit by.
 */
export function slackShareMessages(client: WebClient, now: () => Date): ShareMessages {
  const edit = async (share: ShareRecord, text: string, blocks: ReturnType<typeof revokedBlocks>) => {
    const message = share.message;
    if (!message?.ts || message.via !== "message") return;
    await client.chat.update({ channel: message.channelId, ts: message.ts, text, blocks });
  };
  return {
    async revoked(share, by) {
      await edit(share, `Links revoked by <@${by}>`, revokedBlocks(share, by, now()));
    },
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
