import { fail } from "./args.js";
import type { DoubleState, Methods } from "./state.js";

/** apps.connections.open: where an app opens its Socket Mode connection, when the workspace has one. */
export function socketMode(state: DoubleState): Methods {
  const { workspace } = state;
  return {
    "apps.connections.open": () =>
      workspace.socketModeUrl
        ? { ok: true, url: workspace.socketModeUrl }
        : // The double's own answer for an app without Socket Mode.
          fail("socket_mode_disabled"),
  };
}
