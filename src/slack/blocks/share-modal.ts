import type { KnownBlock, ModalView, PlainTextOption } from "@slack/types";
import { formatDuration } from "../../domain/duration.js";
import type { Access, OpenChoices } from "../../domain/policy.js";
import {
  MAX_FILES_PER_SHARE,
  MAX_MESSAGE_LENGTH,
  MAX_NOTE_LENGTH,
  MAX_TITLE_LENGTH,
} from "../../domain/share-request.js";
import { actionOf, Field, SHARE_VIEW } from "../ids.js";
import { escapeWithin, LIMIT, mrkdwn, plain } from "./kit.js";

const option = (text: string, value: string): PlainTextOption => ({ text: plain(text, LIMIT.option), value });

const base = (privateMetadata: string, blocks: KnownBlock[], submit?: string): ModalView => ({
  type: "modal",
  callback_id: SHARE_VIEW,
  title: plain("Share a file"),
  close: plain(submit ? "Cancel" : "Close"),
  ...(submit ? { submit: plain(submit) } : {}),
  private_metadata: privateMetadata,
  blocks,
});

/** Opened at once, before any directory or bucket call, so that the trigger never expires. */
export const loadingView = (privateMetadata: string): ModalView =>
  base(privateMetadata, [
    { type: "section", text: mrkdwn(":hourglass_flowing_sand: Finding the files you may share…") },
  ]);

/** A modal with a message and nothing to submit: for refusals, progress and results. */
export const messageView = (privateMetadata: string, text: string): ModalView =>
  base(privateMetadata, [{ type: "section", text: mrkdwn(text) }]);

const TO_GET_ACCESS = "To get access: ";

export function noAccessView(privateMetadata: string, contact: string | undefined): ModalView {
  return base(privateMetadata, [
    {
      type: "section",
      text: mrkdwn(
        "*You can't share files with Handout yet.*\n\nHandout shares a file only when the access policy names you (through a user group, a channel you are in, or your user ID) and the file's folder.",
      ),
    },
    {
      type: "section",
      // The policy's own words, as long as the operator made them: in a section of their own.
      text: mrkdwn(
        contact
          ? `${TO_GET_ACCESS}${escapeWithin(contact, LIMIT.section - TO_GET_ACCESS.length)}`
          : "Ask whoever runs Handout in your workspace to add you to the access policy.",
      ),
    },
  ]);
}

const PRESETS = [3600, 86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400];

/** The expiry choices a person may make: common durations up to their longest, and their default. */
export function expiryChoices(access: Access): { options: PlainTextOption[]; initial: PlainTextOption } {
  const longest = Math.max(...access.grants.map((g) => g.maxExpirySeconds));
  const preferred = Math.min(longest, Math.max(...access.grants.map((g) => g.defaultExpirySeconds)));
  const seconds = [...new Set([...PRESETS.filter((s) => s < longest), longest, preferred])].sort(
    (a, b) => a - b,
  );
  const options = seconds.map((s) => option(formatDuration(s), String(s)));
  return { options, initial: options.find((o) => o.value === String(preferred)) as PlainTextOption };
}

/** The expiry fields: a preset within the person's longest, or a date and time. */
export function expiryBlocks(access: Access, label: string): KnownBlock[] {
  const expiry = expiryChoices(access);
  return [
    {
      type: "input",
      block_id: Field.expiry,
      label: plain(label),
      element: {
        type: "static_select",
        action_id: actionOf(Field.expiry),
        options: expiry.options,
        initial_option: expiry.initial,
      },
    },
    {
      type: "input",
      block_id: Field.expiryAt,
      optional: true,
      label: plain("…or at this date and time"),
      hint: plain(`Links to these files can last up to ${expiry.options.at(-1)?.text.text}.`),
      element: { type: "datetimepicker", action_id: actionOf(Field.expiryAt) },
    },
  ];
}

export interface ShareFormInput {
  readonly privateMetadata: string;
  readonly access: Access;
  /** Preselected files: the exact match for the command's query, when there is one. */
  readonly initialFiles: readonly PlainTextOption[];
  /** A line under the file menu about what the query found. */
  readonly hint: string | undefined;
  /** Default the destination to the conversation the command was typed in. */
  readonly inConversation: boolean;
  /** What "who can open" may be (from the policy, for the preselected files if any); absent: not offered. */
  readonly open?: OpenChoices | undefined;
}

const OPEN_LABELS = {
  link: "Anyone with the link",
  members: "People in the conversation (they sign in with Slack)",
} as const;

/** "Who can open", offered only when members-only links are possible and the policy leaves a choice or forces it. */
export function openBlocks(open: OpenChoices | undefined): KnownBlock[] {
  if (!open || "problem" in open || !open.allowed.includes("members")) return [];
  const options = open.allowed.map((access) => option(OPEN_LABELS[access], access));
  return [
    {
      type: "input",
      block_id: Field.open,
      label: plain("Who can open"),
      hint: plain(
        open.allowed.length === 1
          ? "The access policy lets these files be opened only by people in the conversation. Shown only to you: only you can open them."
          : "People in the conversation: only its members can open the links, after signing in with Slack. Shown only to you: only you.",
      ),
      element: {
        type: "radio_buttons",
        action_id: actionOf(Field.open),
        options,
        initial_option: options.find((o) => o.value === open.preferred) ?? options[0],
      },
    },
    {
      type: "input",
      block_id: Field.notifyOpens,
      optional: true,
      label: plain("Tell me who opens"),
      element: {
        type: "checkboxes",
        action_id: actionOf(Field.notifyOpens),
        options: [option("Reply in the message's thread when people open members-only links", "notify")],
      },
    },
  ];
}

export function shareFormView(input: ShareFormInput): ModalView {
  const { access } = input;
  const howOptions = [
    option("Post the links in the conversation", "post"),
    option("Only show them to me", "ephemeral"),
    ...(access.canAnnounce ? [option("Post an announcement", "announce")] : []),
  ];
  const blocks: KnownBlock[] = [
    {
      type: "input",
      block_id: Field.files,
      label: plain("Files"),
      element: {
        type: "multi_external_select",
        action_id: actionOf(Field.files),
        placeholder: plain("Type part of a file name or folder"),
        min_query_length: 0,
        max_selected_items: MAX_FILES_PER_SHARE,
        ...(input.initialFiles.length > 0 ? { initial_options: [...input.initialFiles] } : {}),
      },
    },
  ];
  if (input.hint) blocks.push({ type: "context", elements: [mrkdwn(input.hint)] });
  blocks.push(
    ...expiryBlocks(access, "Link expires after"),
    {
      type: "input",
      block_id: Field.destination,
      label: plain("Where"),
      element: {
        type: "conversations_select",
        action_id: actionOf(Field.destination),
        placeholder: plain("Choose a conversation"),
        ...(input.inConversation ? { default_to_current_conversation: true } : {}),
        filter: { include: ["public", "private", "mpim", "im"], exclude_bot_users: true },
      },
    },
    {
      type: "input",
      block_id: Field.how,
      label: plain("How"),
      element: {
        type: "radio_buttons",
        action_id: actionOf(Field.how),
        options: howOptions,
        initial_option: howOptions[0],
      },
    },
    ...openBlocks(input.open),
  );
  if (access.canAnnounce) {
    blocks.push(
      { type: "section", text: mrkdwn("*Announcement* (only when “Post an announcement” is chosen)") },
      {
        type: "input",
        block_id: Field.title,
        optional: true,
        label: plain("Title"),
        element: { type: "plain_text_input", action_id: actionOf(Field.title), max_length: MAX_TITLE_LENGTH },
      },
      {
        type: "input",
        block_id: Field.message,
        optional: true,
        label: plain("Message"),
        element: {
          type: "plain_text_input",
          action_id: actionOf(Field.message),
          multiline: true,
          max_length: MAX_MESSAGE_LENGTH,
        },
      },
      {
        type: "input",
        block_id: Field.mention,
        optional: true,
        label: plain("Notify"),
        element: {
          type: "static_select",
          action_id: actionOf(Field.mention),
          placeholder: plain("Nobody in particular"),
          options: [
            option("Nobody in particular", "none"),
            option("@here", "here"),
            option("@channel", "channel"),
          ],
        },
      },
      {
        type: "input",
        block_id: Field.pin,
        optional: true,
        label: plain("Pin"),
        element: {
          type: "checkboxes",
          action_id: actionOf(Field.pin),
          options: [option("Pin the announcement in the channel", "pin")],
        },
      },
    );
  }
  blocks.push({
    type: "input",
    block_id: Field.note,
    optional: true,
    label: plain("Note"),
    element: {
      type: "plain_text_input",
      action_id: actionOf(Field.note),
      multiline: true,
      max_length: MAX_NOTE_LENGTH,
      placeholder: plain("Say what the files are for (optional)"),
    },
  });
  return base(input.privateMetadata, blocks, "Share");
}
