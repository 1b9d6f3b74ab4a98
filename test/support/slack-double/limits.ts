import { isRecord } from "./args.js";

/**
 * Slack's published Block Kit limits, measured as Slack measures: a text's length after `&`, `<` and `>`
 * are escaped. In mrkdwn, `<…>` is syntax and entities stay as sent, so only a bare `&` grows.
 */
export function slackTextLength(text: string, type: unknown): number {
  if (type === "mrkdwn") return text.replace(/&(?!amp;|lt;|gt;)/g, "&amp;").length;
  return text.replace(/&/g, "&amp;").replace(/[<>]/g, "&lt;").length;
}

/** Limits on text objects, by where they appear. */
const TEXT_LIMITS = {
  section: 3000,
  field: 2000,
  context: 3000,
  header: 150,
  button: 75,
  option: 75,
  description: 75,
  label: 2000,
  hint: 2000,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

const MESSAGE_BLOCKS = 50;
const VIEW_BLOCKS = 100;
/** Not in the reference: Slack answers `msg_blocks_too_long` above about this many characters of blocks. */
export const MESSAGE_BLOCKS_CHARACTERS = 12_000;

type Check = (value: unknown, at: string) => string | undefined;

function textProblem(value: unknown, at: string, limit: number, plainOnly = false): string | undefined {
  if (!isRecord(value) || typeof value.text !== "string") return `must be a text object [json-pointer:${at}]`;
  if (value.type !== "plain_text" && (plainOnly || value.type !== "mrkdwn")) {
    return `must be one of: ${plainOnly ? "plain_text" : "plain_text, mrkdwn"} [json-pointer:${at}/type]`;
  }
  if (value.text.length === 0) return `must be more than 0 characters [json-pointer:${at}/text]`;
  if (slackTextLength(value.text, value.type) > limit) {
    return `must be less than ${limit + 1} characters [json-pointer:${at}/text]`;
  }
  return undefined;
}

const optional = (value: unknown, check: () => string | undefined) =>
  value === undefined ? undefined : check();

const stringWithin = (value: unknown, at: string, limit: number) =>
  optional(value, () =>
    typeof value === "string" && value.length <= limit
      ? undefined
      : `must be a string of no more than ${limit} characters [json-pointer:${at}]`,
  );

const first = (...problems: (string | undefined)[]) => problems.find((problem) => problem !== undefined);

const each = (values: unknown, at: string, max: number, check: Check): string | undefined => {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) return `must be an array [json-pointer:${at}]`;
  if (values.length > max) return `no more than ${max} items allowed [json-pointer:${at}]`;
  return first(...values.map((value, i) => check(value, `${at}/${i}`)));
};

const confirmProblem: Check = (confirm, at) =>
  optional(confirm, () =>
    isRecord(confirm)
      ? first(
          textProblem(confirm.title, `${at}/title`, TEXT_LIMITS.confirmTitle, true),
          textProblem(confirm.text, `${at}/text`, TEXT_LIMITS.confirmText),
          textProblem(confirm.confirm, `${at}/confirm`, TEXT_LIMITS.confirmButton, true),
          textProblem(confirm.deny, `${at}/deny`, TEXT_LIMITS.confirmButton, true),
        )
      : `must be an object [json-pointer:${at}]`,
  );

const optionProblem: Check = (option, at) =>
  isRecord(option)
    ? first(
        textProblem(option.text, `${at}/text`, TEXT_LIMITS.option),
        optional(option.description, () =>
          textProblem(option.description, `${at}/description`, TEXT_LIMITS.description),
        ),
        typeof option.value === "string" && option.value.length <= 150
          ? undefined
          : `must be a string of no more than 150 characters [json-pointer:${at}/value]`,
      )
    : `must be an object [json-pointer:${at}]`;

const elementProblem: Check = (element, at) => {
  if (!isRecord(element)) return `must be an object [json-pointer:${at}]`;
  const common = first(
    stringWithin(element.action_id, `${at}/action_id`, 255),
    confirmProblem(element.confirm, `${at}/confirm`),
    optional(element.placeholder, () =>
      textProblem(element.placeholder, `${at}/placeholder`, TEXT_LIMITS.placeholder, true),
    ),
  );
  if (common) return common;
  switch (element.type) {
    case "button":
      return first(
        textProblem(element.text, `${at}/text`, TEXT_LIMITS.button, true),
        stringWithin(element.value, `${at}/value`, 2000),
        stringWithin(element.url, `${at}/url`, 3000),
      );
    case "static_select":
    case "multi_static_select":
    case "radio_buttons":
    case "checkboxes":
    case "overflow":
      return first(
        each(element.options, `${at}/options`, element.type === "overflow" ? 5 : 100, optionProblem),
        each(element.initial_options, `${at}/initial_options`, 100, optionProblem),
        optional(element.initial_option, () => optionProblem(element.initial_option, `${at}/initial_option`)),
      );
    case "external_select":
    case "multi_external_select":
      return first(
        each(element.initial_options, `${at}/initial_options`, 100, optionProblem),
        optional(element.initial_option, () => optionProblem(element.initial_option, `${at}/initial_option`)),
      );
    default:
      return undefined;
  }
};

const blockProblem: Check = (block, at) => {
  if (!isRecord(block) || typeof block.type !== "string") return `must be a block [json-pointer:${at}]`;
  const id = stringWithin(block.block_id, `${at}/block_id`, 255);
  if (id) return id;
  switch (block.type) {
    case "section":
      if (block.text === undefined && block.fields === undefined) {
        return `must provide either text or fields [json-pointer:${at}]`;
      }
      return first(
        optional(block.text, () => textProblem(block.text, `${at}/text`, TEXT_LIMITS.section)),
        each(block.fields, `${at}/fields`, 10, (field, fieldAt) =>
          textProblem(field, fieldAt, TEXT_LIMITS.field),
        ),
        optional(block.accessory, () => elementProblem(block.accessory, `${at}/accessory`)),
      );
    case "context":
      return each(block.elements, `${at}/elements`, 10, (element, elementAt) =>
        isRecord(element) && element.type === "image"
          ? undefined
          : textProblem(element, elementAt, TEXT_LIMITS.context),
      );
    case "header":
      return textProblem(block.text, `${at}/text`, TEXT_LIMITS.header, true);
    case "actions":
      return each(block.elements, `${at}/elements`, 25, elementProblem);
    case "input":
      return first(
        textProblem(block.label, `${at}/label`, TEXT_LIMITS.label, true),
        optional(block.hint, () => textProblem(block.hint, `${at}/hint`, TEXT_LIMITS.hint, true)),
        elementProblem(block.element, `${at}/element`),
      );
    default:
      return undefined;
  }
};

/** Slack's answer to a message's blocks: undefined when it would take them. */
export function messageBlocksProblem(blocks: unknown): { error: string; message?: string } | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return { error: "invalid_blocks_format" };
  const problem = each(blocks, "/blocks", MESSAGE_BLOCKS, blockProblem);
  if (problem) return { error: "invalid_blocks", message: problem };
  if (JSON.stringify(blocks).length > MESSAGE_BLOCKS_CHARACTERS) return { error: "msg_blocks_too_long" };
  return undefined;
}

const VIEW_TEXT_LIMIT = 24;

/** The checks Slack makes on a modal, or on App Home (`type: "home"`, which has no title or buttons). */
export function viewProblem(view: unknown, type: "modal" | "home" = "modal"): string | undefined {
  if (!isRecord(view)) return "failed to match all allowed schemas [json-pointer:/view]";
  if (view.type !== type) return `must be one of: ${type} [json-pointer:/view/type]`;
  for (const field of ["title", "submit", "close"] as const) {
    const value = view[field];
    if (value === undefined || value === null) {
      if (field === "title" && type === "modal") return "missing required field: title [json-pointer:/view]";
      continue;
    }
    if (!isRecord(value) || typeof value.text !== "string") {
      return `must be a text object [json-pointer:/view/${field}]`;
    }
    if (value.text.length > VIEW_TEXT_LIMIT) {
      return `must be less than ${VIEW_TEXT_LIMIT + 1} characters [json-pointer:/view/${field}/text]`;
    }
  }
  const blocks = each(view.blocks, "/view/blocks", VIEW_BLOCKS, blockProblem);
  if (blocks) return blocks;
  const limits = { private_metadata: 3000, callback_id: 255, external_id: 255 } as const;
  for (const [field, limit] of Object.entries(limits)) {
    const value = view[field];
    if (value !== undefined && (typeof value !== "string" || value.length > limit)) {
      return `must be a string of no more than ${limit} characters [json-pointer:/view/${field}]`;
    }
  }
  return undefined;
}
