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

export class HandoutError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HandoutError";
  }
}

export const isHandoutError = (error: unknown, code?: ErrorCode): error is HandoutError =>
  error instanceof HandoutError && (code === undefined || error.code === code);
