import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { HandoutError } from "../../domain/errors.js";
import type { Origin, Poster, Share } from "../../domain/ports.js";
import type { Posted } from "../../domain/share.js";
import { PartlyPostedError } from "../../domain/use-cases/share-files.js";
import type { Logger } from "../../logger.js";
import { type ResponseUrlCheck, responseUrlHost } from "./response-url.js";
import { slackFailure } from "./slack-error.js";

const NOT_A_MEMBER = new Set(["not_in_channel", "channel_not_found"]);

/**
 * Posts shares with the Web API. Where Handout is not a member of the conversation but the share began
 * there with /share, it answers through the command's response URL, which Slack honours in any
 * conversation; otherwise it says how to let Handout in. A response URL that is not Slack's counts as
 * none: signed links go nowhere else. A share whose links do not fit in one message is posted as
 * several, in order: the first is what Slack's answers about membership decide on.
 */
/** Slack answers a response URL at once; one that hangs must not hold the share. */
const RESPONSE_URL_TIMEOUT_MS = 5_000;

/** One Slack message of a share, as the blocks render it. */
export interface ShareMessagePart {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

/** Renders a share as messages; injected so that this adapter sends what the blocks draw without importing them. */
export type RenderShare = (share: Share) => ShareMessagePart[];

export function slackPoster(
  client: WebClient,
  logger: Logger,
  acceptsResponseUrl: ResponseUrlCheck,
  render: RenderShare,
): Poster {
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
    parts: readonly ShareMessagePart[],
    responseType: "in_channel" | "ephemeral",
  ): Promise<Posted> {
    const shown: Posted = { channelId: origin.channelId, ts: undefined, via: "response_url", pinned: false };
    for (const [i, part] of parts.entries()) {
      let status: string;
      try {
        const response = await fetch(origin.responseUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            response_type: responseType,
            replace_original: false,
            ...part,
            unfurl_links: false,
            unfurl_media: false,
          }),
          // The URL was checked, not wherever a redirect would send the links; and Slack answers at once.
          redirect: "error",
          signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
        });
        if (response.ok) continue;
        status = String(response.status);
      } catch (error) {
        if (i > 0) throw partlyPosted("no answer", shown, error);
        throw new HandoutError(
          "SLACK_UNAVAILABLE",
          "Slack did not answer, so nothing was posted. The /share command can answer in a conversation for 30 minutes: run /share again.",
          { cause: error },
        );
      }
      if (i > 0) throw partlyPosted(status, shown);
      throw new HandoutError(
        "SLACK_UNAVAILABLE",
        `Slack did not accept the message (${status}). The /share command can answer in a conversation for 30 minutes: run /share again.`,
      );
    }
    return shown;
  }

  const message = (part: ShareMessagePart) => ({ ...part, unfurl_links: false, unfurl_media: false });

  /** Once the first part is out, a refused later part must not be reported as nothing posted. */
  const partlyPosted = (reason: string, shown: Posted, cause?: unknown) =>
    new PartlyPostedError(
      `Slack showed the first part of the message but refused the rest (${reason}). Share the files that are missing again; the links already shown open until they expire, or until you revoke the share in Handout's App Home.`,
      shown,
      { cause },
    );

  /** Posts the parts after the first; the timestamps Slack gave them, for editing them with the first. */
  async function postRest(
    rest: readonly ShareMessagePart[],
    send: (part: ShareMessagePart) => Promise<string | undefined>,
    shown: (followUps: readonly string[]) => Posted,
  ): Promise<Posted> {
    const followUps: string[] = [];
    for (const part of rest) {
      try {
        const ts = await send(part);
        if (ts) followUps.push(ts);
      } catch (error) {
        throw partlyPosted(slackFailure(error), shown(followUps), error);
      }
    }
    return shown(followUps);
  }

  async function postEphemeral(
    share: Share,
    parts: ShareMessagePart[],
    origin: Origin | undefined,
  ): Promise<Posted> {
    const [first, ...rest] = parts as [ShareMessagePart, ...ShareMessagePart[]];
    const ephemeral = (part: ShareMessagePart) =>
      client.chat.postEphemeral({ channel: share.channelId, user: share.sharerId, ...message(part) });
    let shown = false;
    try {
      await ephemeral(first);
      shown = true;
    } catch (error) {
      if (!NOT_A_MEMBER.has(slackFailure(error))) throw failed(error);
    }
    if (shown) {
      // Ephemeral messages cannot be edited: their timestamps are of no use.
      return postRest(
        rest,
        async (part) => (await ephemeral(part)).message_ts,
        () => ({ channelId: share.channelId, ts: undefined, via: "ephemeral", pinned: false }),
      );
    }
    const answerable = answerableOrigin(origin, share);
    if (answerable) return viaResponseUrl(answerable, parts, "ephemeral");
    // Nowhere else to show it to the person alone: their direct messages with Handout.
    let answer: Awaited<ReturnType<typeof client.chat.postMessage>>;
    try {
      answer = await client.chat.postMessage({ channel: share.sharerId, ...message(first) });
    } catch (error) {
      throw failed(error);
    }
    const channelId = answer.channel ?? share.sharerId;
    return postRest(
      rest,
      async (part) => (await client.chat.postMessage({ channel: channelId, ...message(part) })).ts,
      (followUps) => ({
        channelId,
        ts: answer.ts,
        via: "direct_message",
        pinned: false,
        ...(followUps.length > 0 ? { followUps } : {}),
      }),
    );
  }

  const failed = (error: unknown) =>
    new HandoutError(
      "SLACK_UNAVAILABLE",
      `Slack did not accept the message (${slackFailure(error)}), so nothing was posted. Try again in a minute.`,
      { cause: error },
    );

  return {
    async post(share, origin): Promise<Posted> {
      const parts = render(share);
      if (share.mode === "ephemeral") return postEphemeral(share, parts, origin);
      const [first, ...rest] = parts as [ShareMessagePart, ...ShareMessagePart[]];
      let ts: string | undefined;
      try {
        ts = (await client.chat.postMessage({ channel: share.channelId, ...message(first) })).ts;
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
        return viaResponseUrl(answerable, parts, "in_channel");
      }
      const { followUps } = await postRest(
        rest,
        async (part) => (await client.chat.postMessage({ channel: share.channelId, ...message(part) })).ts,
        (sent) => ({
          channelId: share.channelId,
          ts,
          via: "message",
          pinned: false,
          ...(sent.length > 0 ? { followUps: sent } : {}),
        }),
      );
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
      return {
        channelId: share.channelId,
        ts,
        via: "message",
        pinned,
        ...(followUps ? { followUps } : {}),
      };
    },
  };
}
