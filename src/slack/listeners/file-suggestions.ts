import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from "@slack/bolt";
import { accessFor } from "../../domain/policy.js";
import { MAX_RESULTS } from "../../domain/search.js";
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
    const person = await within(
      ctx.directory.person(body.user.id).catch((error: unknown) => {
        ctx.logger.warn(
          { err: error, user: body.user.id },
          "could not look a person up for file suggestions",
        );
        return undefined;
      }),
      DIRECTORY_BUDGET_MS,
    );
    if (!person) {
      await ack({ options: [] });
      return;
    }
    const access = accessFor(ctx.policy(), person);
    const query = options.value.trim() || state.query;
    const result = access.canShare ? ctx.search.search(query, access.prefixes, MAX_RESULTS) : { files: [] };
    await ack({ options: result.files.map((file) => fileOption(file, ctx.refs)) });
  };
