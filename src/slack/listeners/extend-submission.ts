import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from "@slack/bolt";
import { isHandoutError } from "../../domain/errors.js";
import { accessFor } from "../../domain/policy.js";
import { extendShare } from "../../domain/use-cases/extend-share.js";
import { messageView } from "../blocks/share-modal.js";
import {
  CUT_OFF_MS,
  CUT_OFF_TEXT,
  type HandoutContext,
  QUICK_CHECK_MS,
  unlessCutOff,
  within,
} from "../context.js";
import { slackDate } from "../format.js";
import { publishHome } from "../home.js";
import { actionOf, Field } from "../ids.js";
import { fillModal } from "../open-share-modal.js";
import { expiryBeyondMax } from "../share-form.js";
import { refusedText, shownPrivately } from "./share-submission.js";

/**
 * An expiry beyond what the policy allows for the share's files, judged on cached data within Slack's
 * 3 seconds so that it is answered next to the field (the extension itself asks afresh).
 */
async function quickExpiryCheck(
  ctx: HandoutContext,
  shareId: string | undefined,
  userId: string,
  expiresAt: Date,
  now: Date,
): Promise<string | undefined> {
  const looked = await within(
    Promise.all([shareId ? ctx.share.ledger.get(shareId) : undefined, ctx.directory.person(userId)]).catch(
      () => undefined,
    ),
    QUICK_CHECK_MS,
  );
  if (!looked) return undefined;
  const [share, person] = looked;
  if (!share) return undefined;
  return expiryBeyondMax(accessFor(ctx.policy(), person), share.keys, expiresAt, now);
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
    const now = ctx.share.now();
    const values = view.state.values;
    const at = values[Field.expiryAt]?.[actionOf(Field.expiryAt)]?.selected_date_time;
    const preset = Number(values[Field.expiry]?.[actionOf(Field.expiry)]?.selected_option?.value);
    const expiresAt = typeof at === "number" ? new Date(at * 1000) : new Date(now.getTime() + preset * 1000);
    if (typeof at === "number" && expiresAt <= now) {
      await ack({
        response_action: "errors",
        errors: { [Field.expiryAt]: "That time has passed. Choose a time in the future." },
      });
      return;
    }
    if (typeof at !== "number" && !(Number.isInteger(preset) && preset > 0)) {
      await ack({
        response_action: "errors",
        errors: { [Field.expiry]: "Choose how long the new links last." },
      });
      return;
    }
    const tooLong = await quickExpiryCheck(ctx, state.shareId, body.user.id, expiresAt, now);
    if (tooLong) {
      await ack({
        response_action: "errors",
        errors: { [typeof at === "number" ? Field.expiryAt : Field.expiry]: tooLong },
      });
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
    return isHandoutError(error)
      ? refusedText(error)
      : "*Nothing was shared.*\n\nSomething went wrong on Handout's side. Try again in a minute.";
  }
}
