import type { AllMiddlewareArgs, SlackShortcutMiddlewareArgs } from "@slack/bolt";
import type { HandoutContext } from "../context.js";
import { notOpenedText, openShareModal } from "../open-share-modal.js";

/** The global shortcut “Share a file”: the same modal, with no conversation to default to. */
export const shareShortcut =
  (ctx: HandoutContext) =>
  async ({ shortcut, ack, client }: AllMiddlewareArgs & SlackShortcutMiddlewareArgs): Promise<void> => {
    await ack();
    const outcome = await openShareModal(ctx, client, shortcut.trigger_id, {
      userId: shortcut.user.id,
      query: "",
    });
    if (outcome !== "opened") {
      // No conversation to answer in: the direct messages with Handout are the one place left.
      await client.chat
        .postMessage({
          channel: shortcut.user.id,
          text: notOpenedText(outcome, "Use the shortcut again."),
        })
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error }, "could not tell a person the dialog failed to open"),
        );
    }
  };
