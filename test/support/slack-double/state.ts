import type { SlackMessage, SlackView, SlackWorkspace } from "./types.js";

/** The double's mutable world, shared by the methods of every concern. */
export interface DoubleState {
  readonly workspace: SlackWorkspace;
  readonly views: Map<string, SlackView>;
  readonly messages: SlackMessage[];
  /** App Home views, by user. */
  readonly homes: Map<string, SlackView>;
  readonly spentTriggers: Set<string>;
  /** A message timestamp, later than every one before it. */
  nextTs(): string;
  /** `prefix` and the next number of the double's counter. */
  nextId(prefix: string): string;
  /** The next number of that counter, which view hashes share with ids. */
  next(): number;
}

export type Methods = Record<string, (args: Record<string, unknown>) => Record<string, unknown>>;

export function newState(workspace: SlackWorkspace): DoubleState {
  let counter = 0;
  let lastMicros = 0;
  return {
    workspace,
    views: new Map(),
    messages: [],
    homes: new Map(),
    spentTriggers: new Set(),
    nextTs: () => {
      lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
      return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
    },
    nextId: (prefix) => `${prefix}${String(++counter).padStart(6, "0")}`,
    next: () => ++counter,
  };
}
