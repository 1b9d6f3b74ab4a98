import type { WebClient } from "@slack/web-api";
import type { ShareOpen, ShareRecord } from "../../domain/share.js";
import type { OpenNotices } from "../../domain/tell-opens.js";

/**
 * Tells the sharer in a thread reply under the share's message; a share whose message has no timestamp
 * (shown through a response URL) is told in the sharer's messages with Handout instead.
 */
export function slackOpenNotices(
  client: WebClient,
  text: (share: ShareRecord, opens: readonly ShareOpen[]) => string,
): OpenNotices {
  return {
    async tell(share, opens) {
      const message = share.message;
      const inThread = message?.ts !== undefined && message.via === "message";
      await client.chat.postMessage({
        channel: inThread ? message.channelId : share.sharerId,
        ...(inThread ? { thread_ts: message.ts } : {}),
        text: text(share, opens),
        unfurl_links: false,
        unfurl_media: false,
      });
    },
  };
}
