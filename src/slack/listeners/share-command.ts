import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { HandoutContext } from "../context.js";
import { notOpenedText, openShareModal } from "../open-share-modal.js";
import { responseUrlHost } from "../web/response-url.js";

export const HELP = [
  "*Share files from the team bucket*",
  "`/share` opens the share dialog; `/share report` opens it with files matching “report” ready to pick.",
  "In the dialog, choose up to 10 files, how long the links last, where to post them, and how: in the conversation, only to you, or (if you may) as an announcement.",
  "Links open for anyone who has them until they expire. You can only share files the access policy grants you.",
].join("\n");

export const shareCommand =
  (ctx: HandoutContext) =>
  async ({
    command,
    ack,
    client,
    respond,
  }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    const query = command.text.trim();
    if (/^(help|-h|--help|\?)$/i.test(query)) {
      await ack({ response_type: "ephemeral", text: HELP });
      return;
    }
    await ack();
    const responseUrl = ctx.acceptsResponseUrl(command.response_url) ? command.response_url : undefined;
    if (!responseUrl) {
      ctx.logger.warn(
        { user: command.user_id, host: responseUrlHost(command.response_url) },
        "refused a response URL that is not Slack's: Handout posts nothing to it",
      );
    }
    const outcome = await openShareModal(ctx, client, command.trigger_id, {
      userId: command.user_id,
      channelId: command.channel_id,
      ...(responseUrl ? { responseUrl } : {}),
      query,
    });
    if (outcome !== "opened" && responseUrl) {
      await respond({ response_type: "ephemeral", text: notOpenedText(outcome, "Type /share again.") });
    }
  };
