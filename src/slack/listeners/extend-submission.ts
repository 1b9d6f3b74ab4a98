import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from "@slack/bolt";
import { isHandoutError } from "../../domain/errors.js";
import { extendShare } from "../../domain/use-cases/extend-share.js";
import { checkExtension } from "../../domain/use-cases/prepare-extension.js";
import { refusedText } from "../blocks/failure.js";
import { messageView } from "../blocks/share-modal.js";
import {
  CUT_OFF_MS,
  CUT_OFF_TEXT,
  type HandoutContext,
  QUICK_CHECK_MS,
  unlessCutOff,
  within,
} from "../context.js";
import { readExpiry } from "../expiry-field.js";
import { slackDate } from "../format.js";
import { publishHome } from "../home.js";
import { Field } from "../ids.js";
import { fillModal } from "../open-share-modal.js";
import { shownPrivately } from "./share-submission.js";

/**
 * An expiry beyond what the policy allows for the share's files, judged on the directory's recent
 * answer within Slack's 3 seconds so that it is answered next to the field (the extension asks afresh,
 * and says itself why a share it cannot find or extend is refused).
 */
async function quickExpiryCheck(
  ctx: HandoutContext,
  request: { shareId: string | undefined; actorId: string; expiresAt: Date },
): Promise<string | undefined> {
  const problem = await within(
    checkExtension(ctx.share, request).catch(() => undefined),
    QUICK_CHECK_MS,
  );
  return problem?.message;
}

/** The new expiry was chosen: share the same files again, then say what happened. */
export const extendSubmission =
  (ctx: HandoutContext) =>
  async ({ ack, body, view, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const state = ctx.seal.open(view.private_metadata);
    if (!state || state.userId !== body.user.id) {
      await ack({
        response_action: "errors",
        errors: { [Field.expiry]: "This form was changed outside Slack. Close it and start again." },
      });
      return;
    }
    const expiry = readExpiry(view.state.values, ctx.share.now());
    if (expiry.error !== undefined) {
      await ack({ response_action: "errors", errors: { [expiry.field]: expiry.error } });
      return;
    }
    const { expiresAt } = expiry;
    const tooLong = await quickExpiryCheck(ctx, { shareId: state.shareId, actorId: body.user.id, expiresAt });
    if (tooLong) {
      await ack({ response_action: "errors", errors: { [expiry.field]: tooLong } });
      return;
    }
    // On AWS Lambda the acknowledgement leaves only when this listener ends: it carries the outcome.
    if (!ctx.ackWaitsForListener) {
      await ack({
        response_action: "update",
        view: messageView(view.private_metadata, ":hourglass_flowing_sand: Sharing again…"),
      });
    }
    const text = await unlessCutOff(
      extend(ctx, body.user.id, state.shareId, expiresAt),
      ctx.overdue,
      CUT_OFF_TEXT,
      CUT_OFF_MS,
    );
    if (ctx.ackWaitsForListener) {
      await ack({ response_action: "update", view: messageView(view.private_metadata, text) });
    } else {
      await fillModal(ctx, client, { external_id: state.viewRef }, messageView(view.private_metadata, text));
    }
    await publishHome(ctx, client, body.user.id).catch(() => {});
  };

/** Shares the files again with the new expiry, in the same place; what the modal then says. */
async function extend(
  ctx: HandoutContext,
  userId: string,
  shareId: string | undefined,
  expiresAt: Date,
): Promise<string> {
  try {
    const { record, posted } = await extendShare(
      ctx.share,
      { shareId, actorId: userId, expiresAt, stop: ctx.overdue },
      (error) =>
        ctx.logger.warn({ err: error, share: shareId }, "could not point the old message to the new links"),
    );
    ctx.logger.info(
      {
        event: "extend",
        user: userId,
        share: record.id,
        replaces: shareId,
        expiresAt: record.expiresAt.toISOString(),
      },
      "extended a share",
    );
    const until = `The new links expire ${slackDate(record.expiresAt)}.`;
    return posted.via === "ephemeral" || posted.via === "direct_message"
      ? `:white_check_mark: ${shownPrivately(posted, "the files")} again. ${until}`
      : `:white_check_mark: Shared again in <#${posted.channelId}>. ${until}`;
  } catch (error) {
    ctx.logger.info(
      { event: "extend_refused", user: userId, code: isHandoutError(error) ? error.code : undefined },
      "an extension was refused",
    );
    return refusedText(error);
  }
}
