import type { ModalView } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { isHandoutError } from "../domain/errors.js";
import { accessFor, type Person } from "../domain/policy.js";
import { normalizeForSearch } from "../domain/search.js";
import { loadingView, messageView, noAccessView, shareFormView } from "./blocks/share-modal.js";
import type { HandoutContext } from "./context.js";
import { fileOption } from "./file-options.js";
import { escapeMrkdwn, splitKey } from "./format.js";
import { type ModalState, newViewRef } from "./metadata.js";
import { slackErrorCode } from "./slack-error.js";

/** The form for a person, or a plain explanation when they may share nothing. Memory only: no I/O. */
function modalFor(
  ctx: HandoutContext,
  person: Person,
  state: ModalState,
  privateMetadata: string,
): ModalView {
  const policy = ctx.policy();
  const access = accessFor(policy, person);
  if (!access.canShare) return noAccessView(privateMetadata, policy.contact);
  const query = state.query.trim();
  const result = query ? ctx.search.search(query, access.prefixes, 100) : undefined;
  const wanted = normalizeForSearch(query);
  const exact = result?.files.filter((file) => normalizeForSearch(splitKey(file.key).name) === wanted) ?? [];
  return shareFormView({
    privateMetadata,
    access,
    initialFiles: exact.length === 1 && exact[0] ? [fileOption(exact[0], ctx.refs)] : [],
    hint: result ? hintFor(query, result.files.length, result.partial, exact.length === 1) : undefined,
    inConversation: state.channelId !== undefined,
  });
}

/**
 * Opens the share modal within the trigger's 3 seconds. When the directory already knows the person,
 * the form opens at once (the search is in memory). Otherwise a placeholder opens first, and the form
 * (or a plain explanation when they may share nothing) replaces it once the person is looked up.
 */
export async function openShareModal(
  ctx: HandoutContext,
  client: WebClient,
  triggerId: string,
  opening: Omit<ModalState, "viewRef">,
): Promise<"opened" | "trigger_expired"> {
  const state: ModalState = { ...opening, viewRef: newViewRef() };
  const privateMetadata = ctx.seal.seal(state);
  const known = ctx.directory.known(state.userId);
  let viewId: string | undefined;
  try {
    const view = known ? modalFor(ctx, known, state, privateMetadata) : loadingView(privateMetadata);
    viewId = (
      await client.views.open({ trigger_id: triggerId, view: { ...view, external_id: state.viewRef } })
    ).view?.id;
  } catch (error) {
    ctx.logger.warn({ reason: slackErrorCode(error) }, "could not open the share modal");
    return "trigger_expired";
  }
  if (!viewId) return "trigger_expired";
  if (known) return "opened";

  let view: ModalView;
  try {
    view = modalFor(ctx, await ctx.directory.person(state.userId), state, privateMetadata);
  } catch (error) {
    ctx.logger.warn(
      { code: isHandoutError(error) ? error.code : undefined, err: error },
      "could not prepare the share modal",
    );
    view = messageView(
      privateMetadata,
      isHandoutError(error)
        ? error.message
        : "Something went wrong on Handout's side. Close this and try again in a minute.",
    );
  }
  try {
    await client.views.update({ view_id: viewId, view });
  } catch (error) {
    // Most often the person closed the modal already.
    ctx.logger.info({ reason: slackErrorCode(error) }, "could not fill the share modal");
  }
  return "opened";
}

function hintFor(query: string, count: number, partial: boolean, preselected: boolean): string {
  const shown = `“${escapeMrkdwn(query)}”`;
  const still = partial ? " Handout is still reading the bucket, so more may appear in a moment." : "";
  if (count === 0) return `No file you may share matches ${shown}. Type another part of the name.${still}`;
  if (preselected && count === 1) return `Found ${shown}.${still}`;
  const many =
    count >= 100 ? "100 or more files match" : count === 1 ? "1 file matches" : `${count} files match`;
  return `${many} ${shown}: open the menu to choose.${still}`;
}
