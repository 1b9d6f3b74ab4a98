import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from "@slack/bolt";
import { findShareableFiles } from "../../domain/use-cases/find-files.js";
import { type HandoutContext, within } from "../context.js";
import { fileOption } from "../file-options.js";

/** Slack waits 3 seconds for options; leave room for the network. */
const DIRECTORY_BUDGET_MS = 2000;

/** The type-ahead: files this person may share that match what they typed (or the command's query). */
export const fileSuggestions =
  (ctx: HandoutContext) =>
  async ({
    body,
    options,
    ack,
  }: AllMiddlewareArgs & SlackOptionsMiddlewareArgs<"block_suggestion">): Promise<void> => {
    const state = ctx.seal.open(body.view?.private_metadata);
    if (!state || state.userId !== body.user.id) {
      ctx.logger.warn(
        { user: body.user.id },
        "refused file suggestions for a modal whose metadata was changed",
      );
      await ack({ options: [] });
      return;
    }
    const files = await within(
      findShareableFiles(
        { policy: ctx.policy, directory: ctx.directory, search: ctx.search },
        { userId: body.user.id, query: options.value.trim() || state.query },
      ).catch((error: unknown) => {
        ctx.logger.warn(
          { err: error, user: body.user.id },
          "could not look a person up for file suggestions",
        );
        return undefined;
      }),
      DIRECTORY_BUDGET_MS,
    );
    await ack({ options: (files ?? []).map((file) => fileOption(file, ctx.refs)) });
  };
