import { formatDuration } from "../domain/duration.js";
import type { ShareAccess } from "../domain/ledger.js";
import type { Access } from "../domain/policy.js";
import type { Announcement, ShareMode } from "../domain/ports.js";
import {
  MAX_FILES_PER_SHARE,
  MAX_MESSAGE_LENGTH,
  MAX_NOTE_LENGTH,
  MAX_TITLE_LENGTH,
} from "../domain/share-files.js";
import { actionOf, Field } from "./ids.js";
import type { KeyRefs } from "./key-refs.js";

/** What a submitted share form says, before anything it says is trusted. */
export interface ShareForm {
  readonly keys: string[];
  readonly expiresAt: Date;
  /** The field the expiry came from, for an error about it. */
  readonly expiryField: typeof Field.expiry | typeof Field.expiryAt;
  readonly channelId: string;
  readonly mode: ShareMode;
  readonly note: string | undefined;
  readonly announcement: Announcement | undefined;
  /** Who can open, when the form offered the choice; absent: the policy's preselection. */
  readonly access: ShareAccess | undefined;
  readonly notifyOpens: boolean;
}

export type FieldErrors = Partial<Record<string, string>>;

interface ElementState {
  type?: string;
  value?: string | null;
  selected_option?: { value?: unknown } | null;
  selected_options?: { value?: unknown }[];
  selected_conversation?: string | null;
  selected_date_time?: number | null;
}

type ViewValues = Record<string, Record<string, ElementState | undefined> | undefined>;

const MODES: readonly ShareMode[] = ["post", "ephemeral", "announce"];
const MENTIONS = ["none", "here", "channel"] as const;

/** The words next to an expiry field set beyond what the policy lets this person give these files. */
export function expiryBeyondMax(
  access: Access,
  keys: readonly string[],
  expiresAt: Date,
  now: Date,
): string | undefined {
  const max = access.expiryLimitsFor(keys)?.max;
  if (max === undefined || expiresAt.getTime() - now.getTime() <= max * 1000) return undefined;
  return `Links to these files can last at most ${formatDuration(max)}. Choose an earlier time.`;
}

/** The words next to "who can open" when the chosen files do not allow that choice; undefined when they do. */
export function openNotAllowed(
  access: Access,
  keys: readonly string[],
  asked: ShareAccess | undefined,
  gate: boolean,
): { field: string; text: string } | undefined {
  const choices = access.openChoicesFor(keys, { gate });
  if (!choices) return undefined;
  if ("problem" in choices) return { field: Field.files, text: choices.problem };
  if (asked === undefined || choices.allowed.includes(asked)) return undefined;
  return {
    field: Field.open,
    text:
      asked === "members"
        ? "These files may be opened by anyone with the link only. Choose “Anyone with the link”."
        : "The access policy lets these files be opened only by people in the conversation. Choose “People in the conversation”.",
  };
}

/**
 * Reads the modal's state into a form, or says what is wrong, field by field, in the words shown next
 * to the field. Every value is checked for its shape here; whether the person may do it is checked later.
 */
export function readShareForm(
  values: ViewValues,
  refs: KeyRefs,
  now: Date,
): { form: ShareForm; errors?: undefined } | { form?: undefined; errors: FieldErrors } {
  const element = (field: string): ElementState => values[field]?.[actionOf(field)] ?? {};
  const text = (field: string): string => {
    const value = element(field).value;
    return typeof value === "string" ? value : "";
  };
  const errors: FieldErrors = {};

  const chosen = (element(Field.files).selected_options ?? []).map((o) => o.value);
  const keys: string[] = [];
  if (chosen.length === 0) errors[Field.files] = "Choose at least one file.";
  // Counted before any value is looked up: each may cost a search of the index.
  else if (chosen.length > MAX_FILES_PER_SHARE)
    errors[Field.files] = `Choose at most ${MAX_FILES_PER_SHARE} files at once.`;
  else
    for (const value of chosen) {
      const key = typeof value === "string" ? refs.fromValue(value) : undefined;
      if (key === undefined)
        errors[Field.files] =
          "Handout no longer recognises one of these files. Remove it and choose it again.";
      else keys.push(key);
    }

  const at = element(Field.expiryAt).selected_date_time;
  const preset = Number(element(Field.expiry).selected_option?.value);
  let expiresAt: Date | undefined;
  if (typeof at === "number" && Number.isFinite(at)) {
    expiresAt = new Date(at * 1000);
    if (expiresAt <= now) errors[Field.expiryAt] = "That time has passed. Choose a time in the future.";
  } else if (Number.isInteger(preset) && preset > 0) {
    expiresAt = new Date(now.getTime() + preset * 1000);
  } else {
    errors[Field.expiry] = "Choose how long the links last.";
  }

  const channelId = element(Field.destination).selected_conversation;
  if (typeof channelId !== "string" || !/^[CGDU][A-Z0-9]+$/.test(channelId)) {
    errors[Field.destination] = "Choose where to share the files.";
  }

  const mode = element(Field.how).selected_option?.value ?? "post";
  if (!MODES.includes(mode as ShareMode)) errors[Field.how] = "Choose how to share the files.";

  const note = text(Field.note).trim();
  if (note.length > MAX_NOTE_LENGTH)
    errors[Field.note] = `Keep the note under ${MAX_NOTE_LENGTH} characters.`;

  let announcement: Announcement | undefined;
  if (mode === "announce") {
    const title = text(Field.title).trim();
    const message = text(Field.message).trim();
    const mention = element(Field.mention).selected_option?.value ?? "none";
    if (!title) errors[Field.title] = "An announcement needs a title.";
    if (title.length > MAX_TITLE_LENGTH)
      errors[Field.title] = `Keep the title under ${MAX_TITLE_LENGTH} characters.`;
    if (message.length > MAX_MESSAGE_LENGTH)
      errors[Field.message] = `Keep the message under ${MAX_MESSAGE_LENGTH} characters.`;
    if (!MENTIONS.includes(mention as (typeof MENTIONS)[number]))
      errors[Field.mention] = "Choose whom to notify.";
    announcement = {
      title,
      message,
      mention: mention as Announcement["mention"],
      pin: (element(Field.pin).selected_options ?? []).some((o) => o.value === "pin"),
    };
  }

  const open = element(Field.open).selected_option?.value;
  if (open !== undefined && open !== "link" && open !== "members")
    errors[Field.open] = "Choose who can open the links.";

  if (Object.keys(errors).length > 0 || !expiresAt) return { errors };
  return {
    form: {
      keys,
      expiresAt,
      expiryField: typeof at === "number" ? Field.expiryAt : Field.expiry,
      channelId: channelId as string,
      mode: mode as ShareMode,
      note: note || undefined,
      announcement,
      access: open as ShareAccess | undefined,
      notifyOpens: (element(Field.notifyOpens).selected_options ?? []).some((o) => o.value === "notify"),
    },
  };
}
