import { describe, expect, it } from "vitest";
import { FileIndex, Segment } from "../../src/search/file-index.js";
import { memoryPageSource } from "../../src/search/lister.js";

const at = (key: string, lastModified = 1_700_000_000_000) => ({ key, size: 1, lastModified });

describe("an index seeded from a snapshot", () => {
  it("answers complete searches from the snapshot until its listing replaces them", async () => {
    const index = new FileIndex({ source: memoryPageSource([at("reports/new.pdf")]), roots: [""] });
    expect(index.seed([new Segment([at("reports/old.pdf"), at("reports/older.pdf")])])).toBe(true);
    const seeded = index.search("old", [""], 10);
    expect(seeded.partial).toBe(false);
    expect(seeded.files.map((file) => file.key).sort()).toEqual(["reports/old.pdf", "reports/older.pdf"]);
    await index.refresh();
    expect(index.search("", [""], 10).files.map((file) => file.key)).toEqual(["reports/new.pdf"]);
  });

  it("refuses a snapshot once a listing has finished: the listing knows better", async () => {
    const index = new FileIndex({ source: memoryPageSource([at("reports/new.pdf")]), roots: [""] });
    await index.refresh();
    expect(index.seed([new Segment([at("reports/old.pdf")])])).toBe(false);
    expect(index.search("old", [""], 10).files).toEqual([]);
  });

  it("leaves out the keys it hides, from a snapshot and from a listing alike", async () => {
    const hides = (key: string) => key.startsWith("state/");
    const index = new FileIndex({
      source: memoryPageSource([at("a.pdf"), at("state/index.snapshot")]),
      roots: [""],
      hides,
    });
    index.seed([new Segment([at("a.pdf"), at("state/index.snapshot")])]);
    expect([...index.entries()].map((entry) => entry.key)).toEqual(["a.pdf"]);
    await index.refresh();
    expect([...index.entries()].map((entry) => entry.key)).toEqual(["a.pdf"]);
  });

  it("asks about a snapshot's keys only under the prefix that every hidden key starts with", () => {
    const asked: string[] = [];
    const hides = Object.assign(
      (key: string) => {
        asked.push(key);
        return key === "state/index.snapshot";
      },
      { prefix: "state/" },
    );
    const index = new FileIndex({ source: memoryPageSource([]), roots: [""], hides });
    index.seed([new Segment([at("a.pdf"), at("state/index.snapshot"), at("state/notes.txt"), at("z.pdf")])]);
    expect(asked).toEqual(["state/index.snapshot", "state/notes.txt"]);
    expect([...index.entries()].map((entry) => entry.key)).toEqual(["a.pdf", "state/notes.txt", "z.pdf"]);
  });

  it("gives a snapshot no file that a share found gone", async () => {
    const index = new FileIndex({ source: memoryPageSource([]), roots: [""] });
    index.seed([new Segment([at("a.pdf"), at("b.pdf")])]);
    index.fileGone("a.pdf");
    expect([...index.entries()]).toEqual([at("b.pdf")]);
  });

  it("keeps the version of a file that S3's events reported before the snapshot loaded", () => {
    const index = new FileIndex({ source: memoryPageSource([]), roots: [""] });
    index.upsert([{ key: "a.pdf", size: 2, lastModified: 1_700_000_900_000 }]);
    index.seed([new Segment([at("a.pdf"), at("b.pdf")])]);
    expect(index.search("a.pdf", [""], 10).files).toEqual([
      { key: "a.pdf", size: 2, lastModified: new Date(1_700_000_900_000) },
    ]);
    expect(index.files).toBe(2);
  });
});
