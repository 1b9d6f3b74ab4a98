import { describe, expect, it } from "vitest";
import { corpus } from "../../bench/search.js";
import { FileIndex, type SegmentParts } from "../../src/search/file-index.js";
import { memoryPageSource } from "../../src/search/lister.js";
import { mergeSegments } from "../../src/search/segment-merge.js";

const QUERIES = ["a", ".pdf", "report", "contrat de p", "議事録", "acme", "2021/", "zqxj nothing", ""];

const keysOf = (index: FileIndex, query: string) =>
  index.search(query, [""], 100).files.map((file) => file.key);

describe("a listing's segments merged once it is complete", () => {
  const files = corpus(12_000);

  it("leaves few segments that answer every search as the sealed ones do", async () => {
    const sealed = new FileIndex({ source: memoryPageSource(files), roots: [""], segmentSize: 500 });
    const merged = new FileIndex({
      source: memoryPageSource(files),
      roots: [""],
      segmentSize: 500,
      mergeSegments,
      mergeUpTo: 5_000,
    });
    await sealed.refresh();
    await merged.refresh();
    expect(sealed.status().segments).toBeGreaterThan(20);
    // Names of each class of script apart (Latin-1, other wide, CJK), each in runs of at most 5,000 files.
    expect(merged.status().segments).toBeLessThanOrEqual(5);
    expect(merged.status().segments).toBeGreaterThan(2);
    expect(merged.files).toBe(sealed.files);
    for (const query of QUERIES) expect(keysOf(merged, query)).toEqual(keysOf(sealed, query));
  });

  it("keeps a file found gone while the merge ran gone, and tells of completion after the merge", async () => {
    // A Latin-1 name: those are merged first.
    const goneKey = (files.find((file) => /\/Invoice [^/]*\.pdf$/.test(file.key)) as { key: string }).key;
    const name = goneKey.slice(goneKey.lastIndexOf("/") + 1);
    const completions: number[] = [];
    let merges = 0;
    const index: FileIndex = new FileIndex({
      source: memoryPageSource(files),
      roots: [""],
      segmentSize: 500,
      // S3 reports the deletion while the first group is being merged.
      mergeSegments: (parts: readonly SegmentParts[]) => {
        if (merges++ === 0) index.remove([goneKey]);
        return mergeSegments(parts);
      },
      onComplete: () => completions.push(index.status().segments),
    });
    await index.refresh();
    expect(merges).toBeGreaterThan(0);
    expect(keysOf(index, name)).not.toContain(goneKey);
    expect(index.files).toBe(files.length - 1);
    // The snapshot saver hears of the listing once its segments are merged.
    expect(completions).toEqual([index.status().segments]);
    // One segment for each class of script.
    expect(completions[0]).toBeLessThanOrEqual(3);
  });
});
