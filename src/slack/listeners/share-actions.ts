import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { isHandoutError } from "../../domain/errors.js";
import { isShareId } from "../../domain/ledger.js";
import { accessFor } from "../../domain/policy.js";
import { revokeShare } from "../../domain/share-life.js";
import { extendView } from "../blocks/extend-modal.js";
import { loadingView, messageView } from "../blocks/share-modal.js";
import type { HandoutContext } from "../context.js";
import { publishHome } from "../home.js";
import { newViewRef } from "../metadata.js";

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

const failureText = (error: unknown): string =>
  isHandoutError(error) ? error.message : "Something went wrong on Handout's side. Try again in a minute.";

/** Revoke, from App Home. The button's value is only a claim: revokeShare checks who may. */
export const revokeButton =
  (ctx: HandoutContext) =>
  async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    let notice: string;
    try {
      const share = await revokeShare(ctx.share, { shareId: action.value, actorId: body.user.id }, (error) =>
        ctx.logger.warn(
          { err: error, share: action.value },
          "revoked a share but could not edit its message",
        ),
      );
      ctx.logger.info(
        { event: "revoke", user: body.user.id, share: share.id, sharer: share.sharerId, keys: share.keys },
        "revoked a share",
      );
      notice = ctx.share.revokedLinksRefused
        ? ":no_entry: Revoked. Those links no longer open."
        : ":no_entry: Revoked: the links are gone from the message. Copies of them keep opening until they expire, because revocation at the edge is not set up (ask whoever runs Handout about HANDOUT_REVOCATION_KVS_ARN).";
    } catch (error) {
      ctx.logger.info(
        { event: "revoke_refused", user: body.user.id, code: isHandoutError(error) ? error.code : undefined },
        "a revoke was refused",
      );
      notice = `:warning: ${failureText(error)}`;
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
      const share = isShareId(shareId) ? await ctx.share.ledger.get(shareId) : undefined;
      const person = await ctx.directory.person(body.user.id);
      const access = accessFor(ctx.policy(), person);
      if (!share) throw new Error("Handout has no record of that share.");
      if (share.sharerId !== body.user.id && !access.isAdmin) {
        view = messageView(
          privateMetadata,
          "Only the person who shared these files, or an admin, can share them again.",
        );
      } else if (!access.expiryLimitsFor(share.keys)) {
        view = messageView(privateMetadata, "The access policy no longer lets you share these files.");
      } else {
        view = extendView(privateMetadata, share, access);
      }
    } catch (error) {
      view = messageView(privateMetadata, failureText(error));
    }
    await client.views.update({ view_id: viewId, view }).catch(() => {});
  };
