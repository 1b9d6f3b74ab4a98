/** How a stop is told in Slack: a Handout error in its own words, anything else in one sentence. */
import { type HandoutError, isHandoutError, type MessagePart, namedList } from "../../domain/errors.js";
import { escapeMrkdwn } from "../format.js";
import { shortenMiddle } from "./shorten.js";

/** What a person is told when something failed that they cannot fix: the one wording of it. */
export const SOMETHING_WENT_WRONG =
  "Something went wrong on Handout's side. Try again in a minute; if it keeps happening, tell whoever runs Handout.";

/** How much of each key a message shows: a message stays short for any keys. */
const KEY_SHOWN = 120;

const filesNamed = (keys: readonly string[]): string =>
  namedList(keys.map((key) => shortenMiddle(key, KEY_SHOWN)));

const partMrkdwn = (part: MessagePart): string =>
  typeof part === "string"
    ? escapeMrkdwn(part)
    : "files" in part
      ? escapeMrkdwn(filesNamed(part.files))
      : `<#${part.conversation}>`;

const partPlain = (part: MessagePart): string =>
  typeof part === "string" ? part : "files" in part ? filesNamed(part.files) : "that conversation";

/** A Handout error's words as mrkdwn: its text escaped, its conversations mentioned, its keys shortened. */
export const errorMrkdwn = (error: HandoutError): string => error.parts.map(partMrkdwn).join("");

/** A Handout error's words as plain text, for an error shown next to a form's field. */
export const errorPlain = (error: HandoutError): string => error.parts.map(partPlain).join("");

/** Any error as mrkdwn: a Handout error says what happened; anything else is Handout's own fault. */
export const failureMrkdwn = (error: unknown): string =>
  isHandoutError(error) ? errorMrkdwn(error) : SOMETHING_WENT_WRONG;

/** What a modal says when a share stopped: nothing out, or only part of it, and why. */
export const refusedText = (error: unknown): string =>
  `*${isHandoutError(error, "PARTLY_POSTED") ? "Only part of it was shared." : "Nothing was shared."}*\n\n${failureMrkdwn(error)}`;
