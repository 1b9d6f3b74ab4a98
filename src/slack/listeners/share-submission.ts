import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from "@slack/bolt";
import { isHandoutError } from "../../domain/errors.js";
import type { Share } from "../../domain/ports.js";
import type { Posted } from "../../domain/share.js";
import type { RequestPart } from "../../domain/share-request.js";
import { checkShare } from "../../domain/use-cases/check-share.js";
import { shareFiles } from "../../domain/use-cases/share-files.js";
import { errorPlain, refusedText } from "../blocks/failure.js";
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
import { Field } from "../ids.js";
import type { ModalState } from "../metadata.js";
import { fillModal } from "../open-share-modal.js";
import { type FieldErrors, readShareForm, type ShareForm } from "../share-form.js";

/**
 * The share form was submitted. Mistakes a person can fix are answered next to the field, at once.
 * Then the modal shows progress while the share is checked again from trusted data, signed and
 * posted; it ends showing what happened.
 */
export const shareSubmission =
  (ctx: HandoutContext) =>
  async ({ ack, body, view, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const state = ctx.seal.open(view.private_metadata);
    if (!state || state.userId !== body.user.id) {
      ctx.logger.warn({ user: body.user.id }, "refused a share whose modal metadata was changed");
      await ack({
        response_action: "errors",
        errors: {
          [Field.files]:
            "This form was changed outside Slack, so Handout will not use it. Close it and type /share again.",
        },
      });
      return;
    }
    const now = ctx.share.now();
    const read = readShareForm(view.state.values as Parameters<typeof readShareForm>[0], ctx.refs, now);
    const errors = read.errors ?? (await quickCheck(ctx, body.user.id, read.form));
    if (errors && Object.keys(errors).length > 0) {
      await ack({ response_action: "errors", errors: errors as Record<string, string> });
      return;
    }
    const form = read.form as ShareForm;
    if (ctx.ackWaitsForListener) {
      // On AWS Lambda the acknowledgement leaves only when this listener ends: it carries the outcome.
      const text = await share(ctx, body.user.id, state, form);
      await ack({ response_action: "update", view: messageView(view.private_metadata, text) });
      return;
    }
    await ack({
      response_action: "update",
      view: messageView(view.private_metadata, ":hourglass_flowing_sand: Sharing…"),
    });
    const text = await unlessCutOff(
      share(ctx, body.user.id, state, form),
      ctx.overdue,
      CUT_OFF_TEXT,
      CUT_OFF_MS,
    );
    // The modal the seal was made for, not the payload's view id: no other modal can be reached.
    await fillModal(ctx, client, { external_id: state.viewRef }, messageView(view.private_metadata, text));
  };

/** The field each part of a request is answered next to. */
const FIELD_OF: Record<Exclude<RequestPart, "expiry">, string> = {
  files: Field.files,
  how: Field.how,
  open: Field.open,
  note: Field.note,
  title: Field.title,
  message: Field.message,
};

/**
 * The share's own check, on the directory's recent answer, so that what a person can fix is answered
 * next to the field within Slack's 3 seconds. No answer in time, or none at all: the share checks anyway.
 */
async function quickCheck(
  ctx: HandoutContext,
  userId: string,
  form: ShareForm,
): Promise<FieldErrors | undefined> {
  const problem = await within(
    checkShare(ctx.share, { userId, ...form }).catch(() => undefined),
    QUICK_CHECK_MS,
  );
  if (!problem) return undefined;
  const field = problem.part === "expiry" ? form.expiryField : FIELD_OF[problem.part];
  return { [field]: errorPlain(problem.error) };
}

/** Shares, and says what happened in words for the modal. */
async function share(
  ctx: HandoutContext,
  userId: string,
  state: ModalState,
  form: ShareForm,
): Promise<string> {
  let text: string;
  try {
    const { share, posted } = await shareFiles(
      {
        userId,
        keys: form.keys,
        expiresAt: form.expiresAt,
        channelId: form.channelId,
        mode: form.mode,
        note: form.note,
        announcement: form.announcement,
        access: form.access,
        notifyOpens: form.notifyOpens,
        origin:
          state.channelId && state.responseUrl
            ? { channelId: state.channelId, responseUrl: state.responseUrl }
            : undefined,
      },
      ctx.share,
      { stop: ctx.overdue },
    );
    ctx.logger.info(
      {
        event: "share",
        user: userId,
        channel: posted.channelId,
        via: posted.via,
        mode: form.mode,
        keys: form.keys,
        expiresAt: share.expiresAt.toISOString(),
      },
      "shared files",
    );
    text = successText(posted, form, share.expiresAt) + openedBy(share.access, posted, form);
  } catch (error) {
    if (isHandoutError(error)) {
      ctx.logger.info(
        { event: "share_refused", user: userId, code: error.code, keys: form.keys },
        error.message,
      );
    } else {
      ctx.logger.error({ err: error, user: userId }, "a share failed unexpectedly");
    }
    text = refusedText(error);
  }
  return text;
}

function successText(posted: Posted, form: ShareForm, expiresAt: Date): string {
  const what = form.keys.length === 1 ? "the file" : `${form.keys.length} files`;
  const until = `The link${form.keys.length === 1 ? "" : "s"} expire ${slackDate(expiresAt)}.`;
  switch (posted.via) {
    case "ephemeral":
    case "direct_message":
      return `:white_check_mark: ${shownPrivately(posted, what)}. ${until}`;
    default: {
      const pinNote =
        form.announcement?.pin && !posted.pinned
          ? "\n\nIt could not be pinned: Handout needs to be in the channel to pin."
          : "";
      const kind = form.mode === "announce" ? "Announced" : "Shared";
      return `:white_check_mark: ${kind} ${what} in <#${posted.channelId}>. ${until}${pinNote}`;
    }
  }
}

/** Who can open a members-only share's links, in the words of the modal's last page. */
function openedBy(access: Share["access"], posted: Posted, form: ShareForm): string {
  if (access !== "members") return "";
  const who =
    form.mode === "ephemeral"
      ? "Only you can open them"
      : `Only people in <#${posted.channelId}> can open them`;
  const told =
    form.notifyOpens && form.mode !== "ephemeral"
      ? " You will be told in the message's thread who opened them."
      : "";
  return `\n\n${who}, after signing in with Slack.${told}`;
}

/** Where a share shown to its sharer alone went, in words: "Showed the file to you alone in #c". */
export function shownPrivately(posted: Posted, what: string): string {
  return posted.via === "ephemeral"
    ? `Showed ${what} to you alone in <#${posted.channelId}>`
    : `Sent ${what} to you in your messages with Handout`;
}
