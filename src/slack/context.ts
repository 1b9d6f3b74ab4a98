import type { AccessPolicy } from "../domain/policy.js";
import type { Directory, FileSearch } from "../domain/ports.js";
import type { LifeDependencies } from "../domain/share-life.js";
import type { Logger } from "../logger.js";
import type { KeyRefs } from "./key-refs.js";
import type { MetadataSeal } from "./metadata.js";

/** What every listener may use; built once in the composition root. */
export interface HandoutContext {
  readonly policy: () => AccessPolicy;
  readonly directory: Directory;
  readonly search: FileSearch;
  readonly share: LifeDependencies;
  readonly seal: MetadataSeal;
  readonly refs: KeyRefs;
  readonly logger: Logger;
  /**
   * True on AWS Lambda, where Bolt sends the acknowledgement only when the listener has finished: a
   * submission then acknowledges with its outcome instead of updating the modal afterwards.
   */
  readonly ackWaitsForListener?: boolean;
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
