/**
 * The one check of a share request: its shape (files, texts) and what this person may do (each file,
 * announcing, the expiry). The form, the quick check of a submission and `shareFiles` all judge by it.
 */
import { HandoutError } from "./errors.js";
import { expiryProblem } from "./expiry.js";
import { keyProblem } from "./object-key.js";
import type { Access } from "./policy.js";
import type { Announcement } from "./ports.js";
import type { ShareAccess, ShareMode } from "./share.js";

export const MAX_FILES_PER_SHARE = 10;
export const MAX_NOTE_LENGTH = 2000;
export const MAX_TITLE_LENGTH = 150;
export const MAX_MESSAGE_LENGTH = 2500;

/** What a person asked for, before anything in it is trusted. */
export interface ShareRequestParts {
  readonly keys: readonly string[];
  readonly expiresAt: Date;
  readonly mode: ShareMode;
  readonly note?: string | undefined;
  readonly announcement?: Announcement | undefined;
  /** Who can open the links, as asked; absent: what the policy preselects. */
  readonly access?: ShareAccess | undefined;
}

/** The part of the request a problem is about, so that a form can answer next to the right field. */
export type RequestPart = "files" | "expiry" | "how" | "open" | "note" | "title" | "message";

export interface RequestProblem {
  readonly part: RequestPart;
  readonly error: HandoutError;
}

/** Counted before any key is looked up: each may cost a search of the index. */
export function fileCountProblem(count: number): string | undefined {
  if (count === 0) return "Choose at least one file.";
  if (count > MAX_FILES_PER_SHARE) return `Choose at most ${MAX_FILES_PER_SHARE} files at once.`;
  return undefined;
}

export const noteProblem = (note: string): string | undefined =>
  note.length > MAX_NOTE_LENGTH ? `Keep the note under ${MAX_NOTE_LENGTH} characters.` : undefined;

export function titleProblem(title: string): string | undefined {
  if (!title.trim()) return "An announcement needs a title.";
  if (title.length > MAX_TITLE_LENGTH) return `Keep the title under ${MAX_TITLE_LENGTH} characters.`;
  return undefined;
}

export const messageProblem = (message: string): string | undefined =>
  message.length > MAX_MESSAGE_LENGTH
    ? `Keep the message under ${MAX_MESSAGE_LENGTH} characters.`
    : undefined;

const invalid = (part: RequestPart, words: string): RequestProblem => ({
  part,
  error: new HandoutError("INPUT_INVALID", words),
});

/** The request's own shape: how many files, each a key that can be shared, texts within their limits. */
export function shapeProblem(request: ShareRequestParts): RequestProblem | undefined {
  const count = fileCountProblem(request.keys.length);
  if (count) return invalid("files", count);
  if (new Set(request.keys).size !== request.keys.length)
    return invalid("files", "The same file was chosen twice.");
  const note = noteProblem(request.note ?? "");
  if (note) return invalid("note", note);
  if (request.mode === "announce") {
    const title = titleProblem(request.announcement?.title ?? "");
    if (title) return invalid("title", title);
    const message = messageProblem(request.announcement?.message ?? "");
    if (message) return invalid("message", message);
  }
  for (const key of request.keys) {
    const problem = keyProblem(key);
    if (problem) return invalid("files", `That file cannot be shared: ${problem}.`);
  }
  return undefined;
}

/** Whether this person may share each file, announce, and give these files that long. */
export function accessProblem(
  request: ShareRequestParts,
  access: Access,
  now: Date,
): RequestProblem | undefined {
  const refused = request.keys.filter((key) => !access.allows(key));
  if (refused.length > 0) {
    return {
      part: "files",
      error: new HandoutError(
        "ACCESS_DENIED",
        refused.length === request.keys.length && !access.canShare
          ? "You may not share files from this bucket."
          : ["You may not share ", { files: refused }, "."],
      ),
    };
  }
  if (request.mode === "announce" && !access.canAnnounce) {
    return { part: "how", error: new HandoutError("ACCESS_DENIED", "You may not post announcements.") };
  }
  const expiry = expiryProblem(request.expiresAt, now, access.expiryLimitsFor(request.keys)?.max);
  return expiry ? { part: "expiry", error: expiry } : undefined;
}

/**
 * Who can open the share's links: what the person asked for (or the policy's preselection) when the
 * policy offers it for these files; `gate` says whether members-only links are set up at all.
 */
export function openChoice(
  request: ShareRequestParts,
  access: Access,
  gate: boolean,
): { readonly open: ShareAccess } | RequestProblem {
  const denied = (part: RequestPart, words: string): RequestProblem => ({
    part,
    error: new HandoutError("ACCESS_DENIED", words),
  });
  const choices = access.openChoicesFor(request.keys, { gate });
  if (!choices) return denied("files", "You may not share these files.");
  if ("problem" in choices) return denied("files", choices.problem);
  const asked = request.access ?? choices.preferred;
  if (choices.allowed.includes(asked)) return { open: asked };
  return denied(
    "open",
    asked === "members"
      ? "These files may be opened by anyone with the link only. Choose “Anyone with the link”."
      : "The access policy lets these files be opened only by people in the conversation. Choose “People in the conversation”.",
  );
}

/** The first thing wrong with the request for this person, or undefined when it may go ahead. */
export function shareRequestProblem(
  request: ShareRequestParts,
  access: Access,
  now: Date,
  gate: boolean,
): RequestProblem | undefined {
  const problem = shapeProblem(request) ?? accessProblem(request, access, now);
  if (problem) return problem;
  const open = openChoice(request, access, gate);
  return "error" in open ? open : undefined;
}
