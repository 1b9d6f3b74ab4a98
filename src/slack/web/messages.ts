import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import type { MessageEdit, ShareMessages } from "../../domain/ports.js";
import type { Posted, ShareRecord } from "../../domain/share.js";

/** What each state of a share looks like; injected so that this adapter does not import the blocks. */
export interface ShareStateViews {
  revoked(share: ShareRecord, by: string, at: Date): KnownBlock[];
  expired(share: ShareRecord): KnownBlock[];
  replaced(share: ShareRecord, permalink: string | undefined): KnownBlock[];
  expiresSoonText(share: ShareRecord): string;
  expiresSoon(share: ShareRecord): KnownBlock[];
  /** The later messages of a share posted as several, pointing at the first. */
  followUp(text: string): KnownBlock[];
}

/**
 * Edits a share's message as its state changes. Only messages Handout posted itself can be edited:
 * ephemeral ones and replies through a response URL have no timestamp to edit by. A share posted as
 * several messages has its first edited to the new state, and the others lose their links too.
 */
export function slackShareMessages(
  client: WebClient,
  now: () => Date,
  views: ShareStateViews,
): ShareMessages {
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
        blocks: views.followUp(text),
      });
    }
    return "edited";
  };
  return {
    revoked: (share, by) => edit(share, `Links revoked by <@${by}>`, views.revoked(share, by, now())),
    async expired(share) {
      await edit(share, "These links have expired", views.expired(share));
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
      await edit(share, "These links were extended", views.replaced(share, permalink));
    },
    async expiresSoon(share) {
      // Posted to the person's ID: it lands in their direct messages with Handout.
      await client.chat.postMessage({
        channel: share.sharerId,
        text: views.expiresSoonText(share),
        blocks: views.expiresSoon(share),
        unfurl_links: false,
        unfurl_media: false,
      });
    },
  };
}
