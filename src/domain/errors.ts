/** Stable codes that callers (CLI, Slack listeners, logs) branch on; messages are for people. */
export type ErrorCode =
  | "KEY_INVALID"
  | "ACCESS_DENIED"
  | "EXPIRY_INVALID"
  | "SIGNING_KEY_INVALID"
  | "SIGNING_KEY_UNAVAILABLE"
  | "OBJECT_NOT_FOUND"
  | "STORAGE_UNAVAILABLE"
  | "CONFIG_INVALID"
  | "POLICY_INVALID"
  /** The policy file is not there at all (not unreadable, not invalid): the trial policy may apply. */
  | "POLICY_FILE_MISSING"
  | "INPUT_INVALID"
  | "EXTERNAL_CHANNEL"
  | "NOT_IN_CHANNEL"
  | "CHANNEL_NOT_FOUND"
  | "DIRECTORY_UNAVAILABLE"
  | "SLACK_UNAVAILABLE"
  | "STOPPING"
  /** Slack took the first of a share's messages and refused a later one: some links are out. */
  | "PARTLY_POSTED";

/**
 * A piece of an error's words. Files and conversations are data, so that each medium names them its
 * own way: Slack mentions a conversation and shortens long keys; a log or a terminal prints them whole.
 */
export type MessagePart = string | { readonly files: readonly string[] } | { readonly conversation: string };

/** How many files a message names before it counts the rest. */
export const FILES_NAMED = 3;

/** `“a”, “b”, “c” and 7 more`: the names given, the first few of them. */
export function namedList(names: readonly string[]): string {
  const named = names.slice(0, FILES_NAMED).map((name) => `“${name}”`);
  return names.length > FILES_NAMED
    ? `${named.join(", ")} and ${names.length - FILES_NAMED} more`
    : named.join(", ");
}

const plainPart = (part: MessagePart): string =>
  typeof part === "string"
    ? part
    : "files" in part
      ? namedList(part.files)
      : `the conversation ${part.conversation}`;

export class HandoutError extends Error {
  /** The message as data; `message` is it in plain words. */
  readonly parts: readonly MessagePart[];

  constructor(
    readonly code: ErrorCode,
    message: string | readonly MessagePart[],
    options?: { cause?: unknown },
  ) {
    super(typeof message === "string" ? message : message.map(plainPart).join(""), options);
    this.name = "HandoutError";
    this.parts = typeof message === "string" ? [message] : message;
  }
}

export const isHandoutError = (error: unknown, code?: ErrorCode): error is HandoutError =>
  error instanceof HandoutError && (code === undefined || error.code === code);
