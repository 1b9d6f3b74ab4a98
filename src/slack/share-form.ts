import type { Announcement } from "../domain/ports.js";
import type { ShareAccess, ShareMode } from "../domain/share.js";
import { fileCountProblem, messageProblem, noteProblem, titleProblem } from "../domain/share-request.js";
import { type ExpiryField, readExpiry } from "./expiry-field.js";
import { actionOf, Field } from "./ids.js";
import type { KeyRefs } from "./key-refs.js";

/** What a submitted share form says, before anything it says is trusted. */
export interface ShareForm {
  readonly keys: string[];
  readonly expiresAt: Date;
  /** The field the expiry came from, for an error about it. */
  readonly expiryField: ExpiryField;
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
  const count = fileCountProblem(chosen.length);
  if (count) errors[Field.files] = count;
  else
    for (const value of chosen) {
      const key = typeof value === "string" ? refs.fromValue(value) : undefined;
      if (key === undefined)
        errors[Field.files] =
          "Handout no longer recognises one of these files. Remove it and choose it again.";
      else keys.push(key);
    }

  const expiry = readExpiry(values, now);
  if (expiry.error) errors[expiry.field] = expiry.error;

  const channelId = element(Field.destination).selected_conversation;
  if (typeof channelId !== "string" || !/^[CGDU][A-Z0-9]+$/.test(channelId)) {
    errors[Field.destination] = "Choose where to share the files.";
  }

  const mode = element(Field.how).selected_option?.value ?? "post";
  if (!MODES.includes(mode as ShareMode)) errors[Field.how] = "Choose how to share the files.";

  const note = text(Field.note).trim();
  const noteWrong = noteProblem(note);
  if (noteWrong) errors[Field.note] = noteWrong;

  let announcement: Announcement | undefined;
  if (mode === "announce") {
    const title = text(Field.title).trim();
    const message = text(Field.message).trim();
    const mention = element(Field.mention).selected_option?.value ?? "none";
    const titleWrong = titleProblem(title);
    if (titleWrong) errors[Field.title] = titleWrong;
    const messageWrong = messageProblem(message);
    if (messageWrong) errors[Field.message] = messageWrong;
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

  if (Object.keys(errors).length > 0 || expiry.error !== undefined) return { errors };
  return {
    form: {
      keys,
      expiresAt: expiry.expiresAt,
      expiryField: expiry.field,
      channelId: channelId as string,
      mode: mode as ShareMode,
      note: note || undefined,
      announcement,
      access: open as ShareAccess | undefined,
      notifyOpens: (element(Field.notifyOpens).selected_options ?? []).some((o) => o.value === "notify"),
    },
  };
}
