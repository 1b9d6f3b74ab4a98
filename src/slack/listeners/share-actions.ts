import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { isHandoutError } from "../../domain/errors.js";
import type { ShareRecord } from "../../domain/share.js";
import { isShareId } from "../../domain/share-id.js";
import { prepareExtension } from "../../domain/use-cases/prepare-extension.js";
import { type RevokedMessage, revokeShare } from "../../domain/use-cases/revoke-share.js";
import { extendView } from "../blocks/extend-modal.js";
import { failureMrkdwn } from "../blocks/failure.js";
import { loadingView, messageView } from "../blocks/share-modal.js";
import type { HandoutContext } from "../context.js";
import { publishHome } from "../home.js";
import { newViewRef } from "../metadata.js";
import { fillModal } from "../open-share-modal.js";

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

/** What a revoke did, in every case: to the links themselves, and to the message that carried them. */
function revokedNotice(share: ShareRecord, message: RevokedMessage, linksRefused: boolean): string {
  const links = linksRefused
    ? "Those links no longer open."
    : "Copies of the links keep opening until they expire, because revocation at the edge is not set up (ask whoever runs Handout about HANDOUT_REVOCATION_KVS_ARN).";
  const where = `<#${share.channelId}>`;
  const said: Record<RevokedMessage, string> = {
    edited: "The links are gone from the message.",
    kept: "Its message held no links: it points to the newer ones.",
    failed: `Handout could not edit the message in ${where} (it may have been deleted), so it may still show the links.`,
    not_editable:
      share.message?.via === "response_url"
        ? `The message in ${where} was Handout's reply to /share, which Slack does not let Handout edit: it still shows the links.`
        : `The links were shown only to you in ${where}, which Slack does not let Handout edit: they still show there until you reload Slack.`,
    unknown: share.failure
      ? `Posting it had failed, so Handout has no message to edit; if Slack showed it anyway, the links still show in ${where}.`
      : `Handout stopped while posting it, so it cannot tell whether the links reached ${where}; if they did, they still show there.`,
  };
  return `:no_entry: Revoked. ${said[message]} ${links}`;
}

/** Revoke, from App Home. The button's value is only a claim: revokeShare checks who may. */
export const revokeButton =
  (ctx: HandoutContext) =>
  async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    let notice: string;
    try {
      const { share, message } = await revokeShare(
        ctx.share,
        { shareId: action.value, actorId: body.user.id },
        (error) =>
          ctx.logger.warn(
            { err: error, share: action.value },
            "revoked a share but could not edit its message",
          ),
      );
      ctx.logger.info(
        { event: "revoke", user: body.user.id, share: share.id, sharer: share.sharerId, keys: share.keys },
        "revoked a share",
      );
      notice = revokedNotice(share, message, ctx.share.revokedLinksRefused);
    } catch (error) {
      ctx.logger.info(
        { event: "revoke_refused", user: body.user.id, code: isHandoutError(error) ? error.code : undefined },
        "a revoke was refused",
      );
      notice = `:warning: ${failureMrkdwn(error)}`;
    }
    if (body.view?.type === "home") await publishHome(ctx, client, body.user.id, { notice });
    else
      await client.chat
        .postEphemeral({ channel: body.channel?.id ?? body.user.id, user: body.user.id, text: notice })
        .catch(() => {});
  };

/**
 * Extend (App Home) and Share again (an expired message): a modal to choose the new expiry. It opens at
 * once; the share and the person's rights are looked up after, as for /share.
 */
export const extendButton =
  (ctx: HandoutContext) =>
  async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    const shareId = action.value;
    const viewRef = newViewRef();
    const privateMetadata = ctx.seal.seal({
      userId: body.user.id,
      viewRef,
      query: "",
      ...(isShareId(shareId) ? { shareId } : {}),
    });
    const opened = await client.views
      .open({
        trigger_id: body.trigger_id,
        view: {
          ...loadingView(privateMetadata),
          title: { type: "plain_text", text: "Share again" },
          external_id: viewRef,
        },
      })
      .catch(() => undefined);
    const viewId = opened?.view?.id;
    if (!viewId) return;
    let view: ReturnType<typeof extendView>;
    try {
      const { share, access } = await prepareExtension(ctx.share, { shareId, actorId: body.user.id });
      view = extendView(privateMetadata, share, access);
    } catch (error) {
      view = messageView(privateMetadata, failureMrkdwn(error));
    }
    await fillModal(ctx, client, { view_id: viewId }, view);
  };
