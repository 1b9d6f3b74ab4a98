import { isValid, parseISO } from "date-fns";
import { formatDuration, parseDuration } from "./duration.js";
import { HandoutError } from "./errors.js";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** CloudFront compares whole seconds; rounding down never extends a link beyond what was asked. */
export const toWholeSecond = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/**
 * Reads a moment as a person writes it: a duration from now (`90m`, `36h`, `7d`, `2w`), a date
 * (`2027-01-31`, midnight UTC) or a date and time with its zone (`2027-01-31T12:00:00Z`).
 */
export function parseMoment(text: string, now: Date): Date {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return toWholeSecond(new Date(now.getTime() + seconds * 1000));
  const trimmed = text.trim();
  if (DATE_ONLY.test(trimmed) || DATE_TIME_WITH_ZONE.test(trimmed)) {
    const date = parseISO(DATE_ONLY.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
    if (isValid(date)) return toWholeSecond(date);
  }
  throw new HandoutError(
    "EXPIRY_INVALID",
    `${JSON.stringify(text)} is not a time Handout understands: write a duration such as 36h or 7d, ` +
      "a date such as 2027-01-31, or a date and time with its zone such as 2027-01-31T12:00:00Z.",
  );
}

/** What is wrong with an expiry: not a time, in the past, or beyond the longest allowed (when a maximum applies). */
export function expiryProblem(expiresAt: Date, now: Date, maxSeconds?: number): HandoutError | undefined {
  if (!Number.isFinite(expiresAt.getTime())) {
    return new HandoutError(
      "EXPIRY_INVALID",
      "That expiry is not a time Handout understands: choose another.",
    );
  }
  if (expiresAt.getTime() <= now.getTime()) {
    return new HandoutError("EXPIRY_INVALID", "That time has passed. Choose a time in the future.");
  }
  if (maxSeconds !== undefined && expiresAt.getTime() - now.getTime() > maxSeconds * 1000) {
    return new HandoutError(
      "EXPIRY_INVALID",
      `Links to these files can last at most ${formatDuration(maxSeconds)}. Choose an earlier time.`,
    );
  }
  return undefined;
}

/** Throws `expiryProblem`'s answer, if any. */
export function assertExpiryAllowed(expiresAt: Date, now: Date, maxSeconds?: number): void {
  const problem = expiryProblem(expiresAt, now, maxSeconds);
  if (problem) throw problem;
}
