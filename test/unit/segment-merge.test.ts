import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { corpus } from "../../bench/search.js";
import { Segment, type SegmentParts, searchSegments, WIDE } from "../../src/search/file-index.js";
import type { ListedObject } from "../../src/search/lister.js";
import { mergeSegments } from "../../src/search/segment-merge.js";

const nameOf = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/** The `i`th file of input `j`. */
function fileAt(inputs: readonly ListedObject[][], j: number, i: number): ListedObject {
  const object = inputs[j]?.[i];
  if (object === undefined) throw new Error(`Input ${j} has no file ${i}.`);
  return object;
}

/** Deterministic pseudo-random numbers (a linear congruential generator), so every run splits alike. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * `objects` (in key order) dealt to `count` inputs as a parallel listing deals them: runs of
 * neighbouring keys, of uneven lengths, to inputs of uneven shares, so that key ranges interleave.
 */
function deal(objects: readonly ListedObject[], count: number, seed: number): ListedObject[][] {
  const next = random(seed);
  const inputs: ListedObject[][] = Array.from({ length: count }, () => []);
  for (let at = 0; at < objects.length; ) {
    const run = 1 + Math.floor(next() * 150);
    // Squared, so that the first inputs get the larger shares.
    const input = inputs[Math.floor(next() ** 2 * count)] as ListedObject[];
    for (const object of objects.slice(at, at + run)) input.push(object);
    at += run;
  }
  return inputs;
}

/** Segments of `inputs` with the keys of `gone[j]` marked gone in input `j`. */
function segmentsOf(inputs: readonly ListedObject[][], gone: readonly (readonly string[])[] = []): Segment[] {
  return inputs.map((objects, j) => {
    const segment = new Segment([...objects]);
    for (const key of gone[j] ?? []) segment.markGone(key);
    return segment;
  });
}

/** What the constructor builds from every file of `inputs` not gone, in input order. */
function expected(
  inputs: readonly ListedObject[][],
  gone: readonly (readonly string[])[] = [],
): SegmentParts {
  const objects = inputs.flatMap((list, j) => list.filter((object) => !gone[j]?.includes(object.key)));
  return new Segment(objects).parts();
}

describe("merging segments", () => {
  const all = corpus(3000, 11);
  const narrow = all.filter((object) => !WIDE.test(nameOf(object.key)));
  const wide = all.filter((object) => WIDE.test(nameOf(object.key)));

  it("gives exactly the parts the constructor builds from the inputs' files", async () => {
    const inputs = deal(narrow, 7, 1);
    // Several files of the same time in different inputs: ties go by key, across inputs.
    const tied = 1_700_000_000_000;
    for (const [j, input] of inputs.entries())
      for (let i = 0; i < Math.min(5, input.length); i++)
        input[i] = { ...(input[i] as ListedObject), lastModified: tied + (j % 2) };
    // Sizes of 4 GiB and more in one input only: the merged segment needs the high bits.
    const third = inputs[2] as ListedObject[];
    for (let i = 0; i < 3; i++) third[i] = { ...fileAt(inputs, 2, i), size: 2 ** 32 * (i + 1) + 7 };
    // A key in two inputs: the earlier input's size and time stand, as they would in the constructor.
    const twice = fileAt(inputs, 0, 10);
    inputs[6]?.push({ ...twice, size: 1, lastModified: tied + 5 });
    const again = fileAt(inputs, 4, 3);
    inputs[1]?.push({ ...again, size: 2, lastModified: 1 });
    // Gone files vanish; a key gone from the earlier input is taken from the later one.
    const lost = fileAt(inputs, 6, 0);
    const hidden = fileAt(inputs, 0, 20);
    inputs[4]?.push({ ...hidden, size: 3, lastModified: tied });
    const gone = [
      [fileAt(inputs, 0, 2).key, hidden.key],
      [fileAt(inputs, 1, 0).key],
      [],
      [],
      [],
      [],
      [lost.key],
    ];

    const merged = await mergeSegments(segmentsOf(inputs, gone).map((segment) => segment.parts()));
    expect(merged).toStrictEqual(expected(inputs, gone));
    expect(merged.sizesHigh.length).toBe(merged.count);
    const index = Segment.fromParts(merged);
    expect(index.find(twice.key)).toBeGreaterThanOrEqual(0);
    expect(index.info(index.find(twice.key))).toMatchObject({ size: twice.size });
    expect(index.info(index.find(again.key))).toMatchObject({ size: 2 });
    expect(index.info(index.find(hidden.key))).toMatchObject({ size: 3 });
    expect(index.find(lost.key)).toBe(-1);
  });

  it("keeps the first of equal keys as the constructor does, whichever input is listed first", async () => {
    const objects = narrow.slice(0, 50);
    const older = objects.map((object) => ({ ...object, size: 10, lastModified: 1 }));
    const merged = await mergeSegments(segmentsOf([older, objects]).map((segment) => segment.parts()));
    expect(merged).toStrictEqual(expected([older, objects]));
    expect([...merged.sizes]).toEqual(objects.map(() => 10));
  });

  it("merges names in another script among themselves", async () => {
    const inputs = deal(wide, 5, 2);
    const merged = await mergeSegments(segmentsOf(inputs).map((segment) => segment.parts()));
    expect(WIDE.test(merged.text)).toBe(true);
    expect(merged).toStrictEqual(expected(inputs));
  });

  it("merges nothing, and inputs whose every file is gone, into an empty segment", async () => {
    expect(await mergeSegments([])).toStrictEqual(new Segment([]).parts());
    const objects = narrow.slice(0, 3);
    const segment = segmentsOf([objects], [objects.map((object) => object.key)])[0] as Segment;
    expect(await mergeSegments([segment.parts()])).toStrictEqual(new Segment([]).parts());
  });

  it("matches the constructor for any split, repeats, gone marks and times", async () => {
    // Pieces that sort across a folder's end (`b-c` and `b0` around `b/`), and names of every width.
    const piece = fc.constantFrom("a", "b", "b0", "b-c", "B", "é", "–", "研", "x y");
    const key = fc.array(piece, { minLength: 1, maxLength: 3 }).map((pieces) => pieces.join("/"));
    const file = fc.record({
      key,
      size: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(2 ** 33 + 1)),
      lastModified: fc.integer({ min: 1, max: 4 }),
    });
    const input = fc.record({
      files: fc.uniqueArray(file, { selector: (f) => f.key, maxLength: 30 }),
      gone: fc.array(key, { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 5 }), async (drawn) => {
        const inputs = drawn.map((d) => d.files);
        const gone = drawn.map((d) => d.gone);
        const merged = await mergeSegments(segmentsOf(inputs, gone).map((segment) => segment.parts()));
        expect(merged).toStrictEqual(expected(inputs, gone));
      }),
      { numRuns: 200 },
    );
  });

  it("answers searches as the segments it merged do", async () => {
    const inputs = deal(all, 6, 3);
    const gone = [[fileAt(inputs, 0, 4).key], [], [fileAt(inputs, 2, 0).key]];
    const segments = segmentsOf(inputs, gone);
    const merged = [Segment.fromParts(await mergeSegments(segments.map((segment) => segment.parts())))];
    for (const query of ["invoice", "budget", "議事録", "quarterly report q2", "acme corp/2020", "q", ""]) {
      for (const prefixes of [[""], ["finance/", "legal/"]]) {
        const before = searchSegments(segments, query, prefixes, 50);
        expect(searchSegments(merged, query, prefixes, 50), `${query} in ${prefixes}`).toEqual(before);
        if (query !== "q" && prefixes.length === 1) expect(before.length).toBeGreaterThan(0);
      }
    }
  });

  it("yields to the event loop while it merges, rather than holding it throughout", async () => {
    const files = Array.from({ length: 200_000 }, (_, i) => ({
      key: `folder ${i % 97}/file ${i}.txt`,
      size: i,
      lastModified: 1_600_000_000_000 + (i % 5000),
    }));
    const inputs = deal(
      files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      10,
      4,
    );
    const parts = segmentsOf(inputs).map((segment) => segment.parts());
    let turns = 0;
    let merging = true;
    const turn = () => {
      turns++;
      if (merging) setImmediate(turn);
    };
    setImmediate(turn);
    const merged = await mergeSegments(parts);
    merging = false;
    expect(merged.count).toBe(200_000);
    // A stretch is at most tens of thousands of files or numbers: a merge of 200,000 takes dozens.
    expect(turns).toBeGreaterThan(20);
  });
});
