import { type Args, type Body, fail, invalidArguments, text } from "./args.js";
import { viewProblem } from "./limits.js";
import type { DoubleState, Methods } from "./state.js";
import type { SlackView } from "./types.js";

/** Modals and App Home: views.open, push, update and publish. */
export function views(state: DoubleState): Methods {
  const { workspace, views, homes, spentTriggers, nextId } = state;

  /** A trigger (or interactivity pointer) works once; "expired" stands for one older than 3 seconds. */
  function checkTrigger(trigger: string | undefined): Body | undefined {
    if (trigger === undefined || trigger === "") {
      return invalidArguments("missing required field: trigger_id or interactivity_pointer");
    }
    if (trigger === "expired") return fail("expired_trigger_id");
    if (spentTriggers.has(trigger)) return fail("exchanged_trigger_id");
    return undefined;
  }

  function storeView(view: Record<string, unknown>, id: string, previous?: SlackView): SlackView {
    const stored: SlackView = {
      type: "modal",
      blocks: [],
      private_metadata: "",
      callback_id: "",
      external_id: previous?.external_id ?? "",
      state: { values: {} },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      ...view,
      id,
      team_id: workspace.teamId,
      hash: `h${Math.floor(Date.now() / 1000)}.${state.next()}`,
      root_view_id: previous?.root_view_id ?? id,
      previous_view_id: previous?.previous_view_id ?? null,
      app_id: workspace.appId,
      app_installed_team_id: workspace.teamId,
      bot_id: workspace.botId,
    };
    views.set(id, stored);
    return stored;
  }

  function openView(args: Args): Body {
    const trigger = text(args, "trigger_id") ?? text(args, "interactivity_pointer");
    const triggerProblem = checkTrigger(trigger);
    if (triggerProblem) return triggerProblem;
    const problem = viewProblem(args.view);
    if (problem) return invalidArguments(problem);
    const view = args.view as Record<string, unknown>;
    const externalId = view.external_id;
    if (typeof externalId === "string" && externalId !== "") {
      if ([...views.values()].some((existing) => existing.external_id === externalId)) {
        return fail("duplicate_external_id");
      }
    }
    spentTriggers.add(trigger ?? "");
    return { ok: true, view: storeView(view, nextId("V")) };
  }

  return {
    "views.open": openView,
    "views.push": openView,
    "views.update": (args) => {
      const viewId = text(args, "view_id");
      const externalId = text(args, "external_id");
      if (!viewId && !externalId) return invalidArguments("either view_id or external_id is required");
      const existing = viewId
        ? views.get(viewId)
        : [...views.values()].find((view) => view.external_id === externalId);
      if (!existing) return fail("not_found");
      const problem = viewProblem(args.view);
      if (problem) return invalidArguments(problem);
      const hash = text(args, "hash");
      if (hash !== undefined && hash !== existing.hash) return fail("hash_conflict");
      return { ok: true, view: storeView(args.view as Record<string, unknown>, existing.id, existing) };
    },

    "views.publish": (args) => {
      const userId = text(args, "user_id");
      if (!userId || !workspace.users.has(userId)) return fail("user_not_found");
      const problem = viewProblem(args.view, "home");
      if (problem) return invalidArguments(problem);
      const existing = homes.get(userId);
      const hash = text(args, "hash");
      if (hash !== undefined && existing && hash !== existing.hash) return fail("hash_conflict");
      const view = storeView(args.view as Record<string, unknown>, existing?.id ?? nextId("V"), existing);
      homes.set(userId, view);
      return { ok: true, view };
    },
  };
}
