import * as z from "zod";
import type { Logger } from "../logger.js";
import type { ListedObject } from "./lister.js";

/** One object's change, as S3 reports it through EventBridge. */
export type ObjectEvent =
  | {
      readonly kind: "created";
      readonly bucket: string;
      readonly key: string;
      readonly size: number;
      readonly lastModified: number;
      readonly sequencer: string;
    }
  | { readonly kind: "deleted"; readonly bucket: string; readonly key: string; readonly sequencer: string };

const HEX = /^[0-9A-Fa-f]{1,64}$/;

/**
 * S3's "Object Created" and "Object Deleted" events as EventBridge delivers them. Keys are taken as
 * they come: S3 documents URL-encoding only for its direct notifications, not for EventBridge's.
 */
const eventSchema = z.object({
  source: z.literal("aws.s3"),
  "detail-type": z.enum(["Object Created", "Object Deleted"]),
  time: z.iso.datetime({ offset: true }),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1).max(1024),
      size: z.number().int().nonnegative().optional(),
      sequencer: z.string().regex(HEX),
    }),
  }),
});

/** Whether `input` claims to be an S3 event at all (what Lambda's entry routes on). */
export const isS3Event = (input: unknown): boolean =>
  typeof input === "object" && input !== null && (input as { source?: unknown }).source === "aws.s3";

/** Reads one EventBridge event; anything else is refused with the reason, changing nothing. */
export function parseObjectEvent(
  input: unknown,
): { ok: true; event: ObjectEvent } | { ok: false; reason: string } {
  const parsed = eventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `${issue?.path.join(".") || "event"}: ${issue?.message ?? "invalid"}` };
  }
  const { detail, time } = parsed.data;
  const common = { bucket: detail.bucket.name, key: detail.object.key, sequencer: detail.object.sequencer };
  if (parsed.data["detail-type"] === "Object Deleted")
    return { ok: true, event: { kind: "deleted", ...common } };
  if (detail.object.size === undefined) return { ok: false, reason: "detail.object.size: missing" };
  return {
    ok: true,
    event: { kind: "created", ...common, size: detail.object.size, lastModified: Date.parse(time) },
  };
}

/**
 * Orders two of S3's sequencers for one key: hexadecimal strings of any length, compared as numbers
 * (S3 documents only that a greater value is later, and the strings may differ in length).
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const x = a.toUpperCase().padStart(width, "0");
  const y = b.toUpperCase().padStart(width, "0");
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What the applier changes: the index's event methods. */
export interface EventTarget {
  upsert(objects: readonly ListedObject[]): number;
  remove(keys: readonly string[]): void;
}

export interface ApplyReport {
  readonly applied: number;
  /** Older than, or the same as, an event already applied for the key: repeats and late arrivals. */
  readonly stale: number;
  /** Another bucket's, or a key Handout keeps for itself. */
  readonly ignored: number;
}

export interface ObjectEventApplierOptions {
  readonly index: EventTarget;
  readonly bucket: string;
  /** Keys that are Handout's own (its index snapshot): never offered, whatever the policy says. */
  readonly ownKey?: (key: string) => boolean;
  /**
   * How many keys' last sequencers are remembered, deletes included. Past it the oldest are forgotten:
   * a late event for such a key can then undo a newer one until the next full listing.
   */
  readonly maxKeys?: number;
  readonly logger?: Pick<Logger, "debug" | "warn">;
}

/**
 * Applies S3's object events to the index so that it is right whatever order they arrive in, and
 * however often: per key, only an event with a greater sequencer than the last one seen changes it.
 */
export class ObjectEventApplier {
  /** Each key's last sequencer, oldest first (a Map keeps insertion order). */
  private readonly seen = new Map<string, string>();
  private readonly maxKeys: number;

  constructor(private readonly options: ObjectEventApplierOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  apply(events: readonly ObjectEvent[]): ApplyReport {
    let stale = 0;
    let ignored = 0;
    // The last accepted event per key: a batch may hold a create and a delete of the same key.
    const latest = new Map<string, ObjectEvent>();
    for (const event of events) {
      if (event.bucket !== this.options.bucket || this.options.ownKey?.(event.key)) {
        ignored++;
        continue;
      }
      const last = this.seen.get(event.key);
      if (last !== undefined && compareSequencers(event.sequencer, last) <= 0) {
        stale++;
        continue;
      }
      this.seen.delete(event.key);
      this.seen.set(event.key, event.sequencer);
      latest.delete(event.key);
      latest.set(event.key, event);
    }
    for (const key of this.seen.keys()) {
      if (this.seen.size <= this.maxKeys) break;
      this.seen.delete(key);
    }
    const created: ListedObject[] = [];
    const deleted: string[] = [];
    for (const event of latest.values()) {
      if (event.kind === "created") {
        created.push({ key: event.key, size: event.size, lastModified: event.lastModified });
      } else {
        deleted.push(event.key);
      }
    }
    if (deleted.length > 0) this.options.index.remove(deleted);
    if (created.length > 0) this.options.index.upsert(created);
    if (stale > 0 || ignored > 0) this.options.logger?.debug({ stale, ignored }, "object events skipped");
    return { applied: latest.size, stale, ignored };
  }

  /** Parses and applies EventBridge events; those that are not S3 object events are logged and left. */
  applyRaw(inputs: readonly unknown[]): ApplyReport & { readonly invalid: number } {
    const events: ObjectEvent[] = [];
    let invalid = 0;
    for (const input of inputs) {
      const parsed = parseObjectEvent(input);
      if (parsed.ok) events.push(parsed.event);
      else {
        invalid++;
        this.options.logger?.warn(
          { reason: parsed.reason },
          "an event that is not an S3 object event was left alone",
        );
      }
    }
    return { ...this.apply(events), invalid };
  }
}
