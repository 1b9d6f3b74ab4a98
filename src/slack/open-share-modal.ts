import type { ModalView } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { isHandoutError } from "../domain/errors.js";
import { normalizeForSearch } from "../domain/search.js";
import { type ShareStart, startShare, startShareFromCache } from "../domain/use-cases/start-share.js";
import { failureMrkdwn } from "./blocks/failure.js";
import { escapeWithin } from "./blocks/kit.js";
import { loadingView, messageView, noAccessView, shareFormView } from "./blocks/share-modal.js";
import type { HandoutContext } from "./context.js";
import { fileOption } from "./file-options.js";
import { splitKey } from "./format.js";
import { type ModalState, newViewRef } from "./metadata.js";
import { slackErrorCode } from "./web/slack-error.js";

/** The form for a person, or a plain explanation when they may share nothing. Memory only: no I/O. */
function modalFor(
  ctx: HandoutContext,
  start: ShareStart,
  state: ModalState,
  privateMetadata: string,
): ModalView {
  if (!start.access.canShare) return noAccessView(privateMetadata, start.contact);
  const query = state.query.trim();
  const result = start.found;
  const wanted = normalizeForSearch(query);
  const exact = result?.files.filter((file) => normalizeForSearch(splitKey(file.key).name) === wanted) ?? [];
  const gate = { gate: ctx.share.memberLinks !== undefined };
  const preselected = exact.length === 1 && exact[0] ? exact[0].key : undefined;
  return shareFormView({
    open: preselected
      ? start.access.openChoicesFor([preselected], gate)
      : start.access.openChoicesAtAll(gate),
    privateMetadata,
    access: start.access,
    initialFiles: exact.length === 1 && exact[0] ? [fileOption(exact[0], ctx.refs)] : [],
    hint: result ? hintFor(query, result.files.length, result.partial, exact.length === 1) : undefined,
    inConversation: state.channelId !== undefined,
  });
}

/** How much of a query the hint repeats: enough to recognise it, whatever was typed. */
const MAX_QUERY_SHOWN = 200;

/** Slack's answers that mean the trigger was too old or used: opening again with a new one may work. */
const TRIGGER_GONE = new Set(["expired_trigger_id", "exchanged_trigger_id"]);

/** Slack's answer to a view for a modal that is no longer open: nothing to tell anyone. */
const VIEW_GONE = new Set(["not_found", "view_not_found"]);

/** Slack's answers to a view it will never take, however often it is sent: Handout built it wrong. */
const BUILT_WRONG = new Set([
  "invalid_arguments",
  "invalid_blocks",
  "invalid_blocks_format",
  "view_too_large",
]);

/** Did not open: the trigger ran out, Slack refused what Handout built, or Slack failed otherwise. */
export type OpenOutcome = "opened" | "trigger_expired" | "refused" | "unavailable";

const HANDOUTS_FAULT = "This is a fault in Handout, not something you did: tell whoever runs Handout.";

/** What to tell a person whose dialog did not open; `again` is how to try again (the command, the shortcut). */
export function notOpenedText(outcome: Exclude<OpenOutcome, "opened">, again: string): string {
  if (outcome === "trigger_expired") return `Slack took too long to open the share dialog. ${again}`;
  if (outcome === "refused") {
    return `Slack refused the share dialog Handout sent, so trying again will not help. ${HANDOUTS_FAULT}`;
  }
  return `Slack could not open the share dialog just now. ${again.replace(/\.$/, "")} in a minute.`;
}

/**
 * Shows `view` in the open modal. When Slack refuses it, the modal says so rather than staying on its
 * placeholder; a modal closed meanwhile is left alone.
 */
export async function fillModal(
  ctx: HandoutContext,
  client: WebClient,
  target: { readonly view_id: string } | { readonly external_id: string },
  view: ModalView,
): Promise<void> {
  let explanation: string;
  try {
    await client.views.update({ ...target, view });
    return;
  } catch (error) {
    const reason = slackErrorCode(error);
    if (reason && VIEW_GONE.has(reason)) {
      ctx.logger.info({ reason }, "the modal was closed before Handout could fill it");
      return;
    }
    ctx.logger.error({ reason, err: error }, "Slack did not take a modal Handout built");
    explanation =
      reason && BUILT_WRONG.has(reason)
        ? `Slack refused what Handout tried to show here. ${HANDOUTS_FAULT}`
        : `Slack could not show what Handout prepared here (${reason ?? "no answer"}). Close this and try again in a minute.`;
  }
  await client.views
    .update({ ...target, view: messageView(view.private_metadata ?? "", explanation) })
    .catch((error: unknown) =>
      ctx.logger.info({ reason: slackErrorCode(error) }, "could not explain a refused modal"),
    );
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
): Promise<OpenOutcome> {
  const state: ModalState = { ...opening, viewRef: newViewRef() };
  const privateMetadata = ctx.seal.seal(state);
  const lookups = { policy: ctx.policy, directory: ctx.directory, search: ctx.search };
  const known = startShareFromCache(lookups, state);
  let viewId: string | undefined;
  try {
    const view = known ? modalFor(ctx, known, state, privateMetadata) : loadingView(privateMetadata);
    viewId = (
      await client.views.open({ trigger_id: triggerId, view: { ...view, external_id: state.viewRef } })
    ).view?.id;
  } catch (error) {
    const reason = slackErrorCode(error);
    // No Slack answer at all (a timeout) leaves the trigger expired by the time of any retry.
    if (reason === undefined || TRIGGER_GONE.has(reason)) {
      ctx.logger.warn({ reason }, "could not open the share modal in time");
      return "trigger_expired";
    }
    if (reason && BUILT_WRONG.has(reason)) {
      ctx.logger.error({ reason, err: error }, "Slack refused the share modal Handout built");
      return "refused";
    }
    ctx.logger.warn({ reason }, "Slack could not open the share modal");
    return "unavailable";
  }
  if (!viewId) return "trigger_expired";
  if (known) return "opened";

  let view: ModalView;
  try {
    view = modalFor(ctx, await startShare(lookups, state), state, privateMetadata);
  } catch (error) {
    ctx.logger.warn(
      { code: isHandoutError(error) ? error.code : undefined, err: error },
      "could not prepare the share modal",
    );
    view = messageView(privateMetadata, failureMrkdwn(error));
  }
  await fillModal(ctx, client, { view_id: viewId }, view);
  return "opened";
}

function hintFor(query: string, count: number, partial: boolean, preselected: boolean): string {
  const shown = `“${escapeWithin(query, MAX_QUERY_SHOWN)}”`;
  const still = partial ? " Handout is still reading the bucket, so more may appear in a moment." : "";
  if (count === 0) return `No file you may share matches ${shown}. Type another part of the name.${still}`;
  if (preselected && count === 1) return `Found ${shown}.${still}`;
  const many =
    count >= 100 ? "100 or more files match" : count === 1 ? "1 file matches" : `${count} files match`;
  return `${many} ${shown}: open the menu to choose.${still}`;
}
