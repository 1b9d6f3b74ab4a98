import { Segment } from "../../src/search/file-index.js";
import type { ListedObject } from "../../src/search/lister.js";
import type { Snapshot } from "../../src/search/snapshot.js";

/** What a snapshot of an index holding just `objects` is written from. */
export const partsOf = (objects: readonly ListedObject[]) => [new Segment([...objects]).parts()];

/** A loaded snapshot's files that are not gone, in key order within each segment. */
export const entriesOf = (snapshot: Snapshot): ListedObject[] =>
  snapshot.segments.flatMap((segment) => [...segment.entries()]);
