/** Who may act on a share, and whose shares a person may see: the sharer, or an admin. */
import { HandoutError } from "./errors.js";
import type { Access } from "./policy.js";
import type { ShareRecord } from "./share.js";

/** What a person asks to do with a share. */
export type ShareAction = "revoke" | "extend";

/** Whether the person may revoke or extend the share. `access` is theirs, judged from trusted data. */
export const mayActOn = (share: ShareRecord, actorId: string, access: Access | undefined): boolean =>
  share.sharerId === actorId || access?.isAdmin === true;

/** What a person who may not act on a share is told. */
export const notTheSharer = (action: ShareAction): HandoutError =>
  new HandoutError(
    "ACCESS_DENIED",
    action === "extend"
      ? "Only the person who shared these files, or an admin, can share them again."
      : "Only the person who shared these files, or an admin, can do that.",
  );

/**
 * Whose shares a person sees: an admin everyone's, or those of the person they chose; anyone else
 * their own, whatever they asked for. Undefined means everyone's.
 */
export const visibleSharer = (
  viewerId: string,
  access: Access | undefined,
  requested: string | undefined,
): string | undefined => (access?.isAdmin ? requested : viewerId);
