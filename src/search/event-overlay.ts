import type { ListedObject } from "./lister.js";

/** What the overlay needs of a segment: the index's own, made by the factory it is given. */
export interface OverlaySegment {
  markGone(key: string): boolean;
}

/**
 * Files that S3's events put into the index since a listing, held beside the listed segments. Each
 * batch rebuilds only a small tail segment; a full tail is sealed and a new one begun, so an event
 * costs at most the sorting of `tailSize` files.
 */
export class EventOverlay<Segment extends OverlaySegment> {
  /** Each file an event put here, and when (ms) it did. */
  private readonly entries = new Map<string, { readonly object: ListedObject; readonly at: number }>();
  private sealed: Segment[] = [];
  private tail = new Set<string>();
  private tailSegment: Segment | undefined;

  constructor(
    private readonly makeSegment: (objects: ListedObject[]) => Segment,
    private readonly tailSize = 1_000,
  ) {}

  get segments(): readonly Segment[] {
    return this.tailSegment ? [...this.sealed, this.tailSegment] : this.sealed;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Every key an event put here. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Adds or replaces files; `at` is when, for `keepSince`. */
  put(objects: readonly ListedObject[], at: number): void {
    if (objects.length === 0) return;
    for (const object of objects) {
      if (this.entries.has(object.key) && !this.tail.has(object.key)) {
        for (const segment of this.sealed) segment.markGone(object.key);
      }
      this.entries.set(object.key, { object, at });
      this.tail.add(object.key);
    }
    this.rebuildTail();
  }

  /** Forgets files. */
  drop(keys: readonly string[]): void {
    let tailChanged = false;
    for (const key of keys) {
      if (!this.entries.delete(key)) continue;
      if (this.tail.delete(key)) tailChanged = true;
      else for (const segment of this.sealed) segment.markGone(key);
    }
    if (tailChanged) this.rebuildTail();
  }

  /** Keeps only the files put at or after `since`: a listing started then has seen the others. */
  keepSince(since: number): void {
    for (const [key, entry] of this.entries) if (entry.at < since) this.entries.delete(key);
    this.sealed = [];
    this.tail = new Set(this.entries.keys());
    this.tailSegment = undefined;
    if (this.tail.size > 0) this.rebuildTail();
  }

  private rebuildTail(): void {
    const objects = [...this.tail].map((key) => this.entries.get(key)?.object as ListedObject);
    if (objects.length >= this.tailSize) {
      for (let at = 0; at < objects.length; at += this.tailSize) {
        this.sealed.push(this.makeSegment(objects.slice(at, at + this.tailSize)));
      }
      this.tail = new Set();
      this.tailSegment = undefined;
    } else {
      this.tailSegment = objects.length > 0 ? this.makeSegment(objects) : undefined;
    }
  }
}
