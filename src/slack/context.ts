import type { AccessPolicy } from "../domain/policy.js";
import type { Directory, FileSearch } from "../domain/ports.js";
import type { LifeDependencies } from "../domain/use-cases/dependencies.js";
import type { Logger } from "../logger.js";
import type { KeyRefs } from "./key-refs.js";
import type { MetadataSeal } from "./metadata.js";
import type { ResponseUrlCheck } from "./web/response-url.js";

/** What every listener may use; built once in the composition root. */
export interface HandoutContext {
  readonly policy: () => AccessPolicy;
  readonly directory: Directory;
  readonly search: FileSearch;
  readonly share: LifeDependencies;
  readonly seal: MetadataSeal;
  /** Whether a payload's response URL is Slack's, and so may be posted to. */
  readonly acceptsResponseUrl: ResponseUrlCheck;
  readonly refs: KeyRefs;
  readonly logger: Logger;
  /**
   * True on AWS Lambda, where Bolt sends the acknowledgement only when the listener has finished: a
   * submission then acknowledges with its outcome instead of updating the modal afterwards.
   */
  readonly ackWaitsForListener?: boolean;
  /** Aborted when a shutdown's grace period has run out: work still under way stops and says so. */
  readonly overdue?: AbortSignal;
}

/** The part of Slack's 3 seconds that a quick check of a submission against cached data may use. */
export const QUICK_CHECK_MS = 1200;

/** Resolves to undefined when the promise takes longer than `ms`: for answers Slack waits 3 seconds for. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The promise's value, or `fallback` when the signal aborts and the promise has still not settled
 * `ms` later: for words to a person waiting on work that a shutdown is about to cut off.
 */
/** How long work cut off by a shutdown may still take to end on its own before the person is told. */
export const CUT_OFF_MS = 300;
export const CUT_OFF_TEXT =
  "*Handout had to stop (it is restarting) while this share was under way.*\n\nIf it was posted, it is listed under *Your links* in Handout's App Home; if not, share again in a minute.";

export function unlessCutOff<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  fallback: T,
  ms: number,
): Promise<T> {
  if (!signal) return promise;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cutOff = new Promise<T>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => resolve(fallback), ms);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, cutOff]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  });
}
