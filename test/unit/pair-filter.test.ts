import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeForSearch, searchByScan } from "../../src/domain/search.js";
import { Segment, searchSegments } from "../../src/search/file-index.js";

/**
 * Segments of thousands of names (many blocks of the pair filter), with names from a small alphabet so
 * that some blocks hold a query's pairs and others do not: the filter may skip only blocks that
 * cannot match.
 */
describe("the pair filter over blocks of names", () => {
  // No digit, space or dot: the filler names' pairs are never a query's.
  const letters = ["a", "b", "c", "x", "é", "日", "-"];
  const name = fc
    .array(fc.constantFrom(...letters), { minLength: 2, maxLength: 8 })
    .map((chars) => chars.join(""));

  it("finds what a plain scan finds, in long segments where most blocks lack the query's pairs", () => {
    fc.assert(
      fc.property(
        fc.array(name, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.nat(),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 100 }),
        (rare, seed, from, length, limit) => {
          // Mostly a piece of a chosen name, so that there is something to find.
          const source = rare[from % rare.length] as string;
          const start = from % Math.max(1, source.length - 1);
          const query = from % 5 === 0 ? "a-x" : source.slice(start, start + length);
          // Mostly filler names (which no query here matches), and a few chosen ones placed at random.
          let state = seed;
          const next = () => {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            return state;
          };
          const files = Array.from({ length: 3000 }, (_, i) => {
            const picked = next() % 400 === 0 ? rare[next() % rare.length] : `zz${i}`;
            return { key: `f${i % 7}/${picked} ${i}.txt`, size: 1, lastModified: next() % 1000 };
          });
          const segment = new Segment(files.map((f) => ({ ...f })));
          const expected = searchByScan(
            files,
            files.map((f) => normalizeForSearch(f.key)),
            query,
            [""],
            limit,
          );
          expect(searchSegments([segment], query, [""], limit).map((f) => f.key)).toEqual(
            expected.map((f) => f.key),
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  it("finds the one name that holds the query, in whichever block of a long segment it lies", () => {
    for (const place of [0, 300, 900, 2999]) {
      // Newest first is the text's order: file i is the i-th name there, in block i / 256.
      const files = Array.from({ length: 3000 }, (_, i) => ({
        key: i === place ? "docs/q abcx.txt" : `docs/zz${i}.txt`,
        size: 1,
        lastModified: 10_000 - i,
      }));
      const found = searchSegments([new Segment(files)], "bcx", [""], 100);
      expect(found.map((f) => f.key)).toEqual(["docs/q abcx.txt"]);
    }
  });
});
