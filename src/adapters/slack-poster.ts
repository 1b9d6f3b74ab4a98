import type { WebClient } from "@slack/web-api";
import { HandoutError } from "../domain/errors.js";
import type { Origin, Posted, Poster, Share } from "../domain/ports.js";
import type { Logger } from "../logger.js";
import { shareBlocks, shareText } from "../slack/blocks/share-message.js";
import { type ResponseUrlCheck, responseUrlHost } from "../slack/response-url.js";
import { slackFailure } from "../slack/slack-error.js";

const NOT_A_MEMBER = new Set(["not_in_channel", "channel_not_found"]);

/**
 * Posts shares with the Web API. Where Handout is not a member of the conversation but the share began
 * there with /share, it answers through the command's response URL, which Slack honours in any
 * conversation; otherwise it says how to let Handout in. A response URL that is not Slack's counts as
 * none: signed links go nowhere else.
 */
export function slackPoster(client: WebClient, logger: Logger, acceptsResponseUrl: ResponseUrlCheck): Poster {
  /** The command's origin, when the share goes back where it began and its response URL is Slack's. */
  function answerableOrigin(origin: Origin | undefined, share: Share): Origin | undefined {
    if (origin?.channelId !== share.channelId) return undefined;
    if (acceptsResponseUrl(origin.responseUrl)) return origin;
    logger.warn(
      { user: share.sharerId, host: responseUrlHost(origin.responseUrl) },
      "refused to post to a response URL that is not Slack's",
    );
    return undefined;
  }

  async function viaResponseUrl(
    origin: Origin,
    share: Share,
    responseType: "in_channel" | "ephemeral",
  ): Promise<void> {
    const response = await fetch(origin.responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        response_type: responseType,
        replace_original: false,
        text: shareText(share),
        blocks: shareBlocks(share),
        unfurl_links: false,
        unfurl_media: false,
      }),
    });
    if (!response.ok) {
      throw new HandoutError(
        "SLACK_UNAVAILABLE",
        `Slack did not accept the message (${response.status}). The /share command can answer in a conversation for 30 minutes: run /share again.`,
      );
    }
  }

  const message = (share: Share) => ({
    text: shareText(share),
    blocks: shareBlocks(share),
    unfurl_links: false,
    unfurl_media: false,
  });

  async function postEphemeral(share: Share, origin: Origin | undefined): Promise<Posted> {
    try {
      await client.chat.postEphemeral({ channel: share.channelId, user: share.sharerId, ...message(share) });
      return { channelId: share.channelId, ts: undefined, via: "ephemeral", pinned: false };
    } catch (error) {
      if (!NOT_A_MEMBER.has(slackFailure(error))) throw failed(error);
    }
    const answerable = answerableOrigin(origin, share);
    if (answerable) {
      await viaResponseUrl(answerable, share, "ephemeral");
      return { channelId: share.channelId, ts: undefined, via: "response_url", pinned: false };
    }
    // Nowhere else to show it to the person alone: their direct messages with Handout.
    try {
      const answer = await client.chat.postMessage({ channel: share.sharerId, ...message(share) });
      return {
        channelId: answer.channel ?? share.sharerId,
        ts: answer.ts,
        via: "direct_message",
        pinned: false,
      };
    } catch (error) {
      throw failed(error);
    }
  }

  const failed = (error: unknown) =>
    new HandoutError(
      "SLACK_UNAVAILABLE",
      `Slack did not accept the message (${slackFailure(error)}), so nothing was posted. Try again in a minute.`,
      { cause: error },
    );

  return {
    async post(share, origin): Promise<Posted> {
      if (share.mode === "ephemeral") return postEphemeral(share, origin);
      let ts: string | undefined;
      try {
        ts = (await client.chat.postMessage({ channel: share.channelId, ...message(share) })).ts;
      } catch (error) {
        if (!NOT_A_MEMBER.has(slackFailure(error))) throw failed(error);
        const answerable = answerableOrigin(origin, share);
        if (!answerable) {
          throw new HandoutError(
            "NOT_IN_CHANNEL",
            `Handout is not in <#${share.channelId}>, so it cannot post there. Type /invite @Handout in that conversation, then share again — or type /share there, which lets Handout answer without joining.`,
            { cause: error },
          );
        }
        await viaResponseUrl(answerable, share, "in_channel");
        return { channelId: share.channelId, ts: undefined, via: "response_url", pinned: false };
      }
      let pinned = false;
      if (share.announcement?.pin && ts) {
        try {
          await client.pins.add({ channel: share.channelId, timestamp: ts });
          pinned = true;
        } catch (error) {
          logger.warn(
            { channel: share.channelId, reason: slackFailure(error) },
            "could not pin an announcement",
          );
        }
      }
      return { channelId: share.channelId, ts, via: "message", pinned };
    },
  };
}
