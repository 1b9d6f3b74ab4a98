import { describe, expect, it } from "vitest";
import { FileIndex } from "../../src/search/file-index.js";
import { memoryPageSource } from "../../src/search/lister.js";

describe("sealing names in another script apart", () => {
  it("keeps Latin-1 names apart from the others, and finds both kinds in one answer", async () => {
    const files = [
      { key: "reports/Café budget.pdf", size: 1, lastModified: 3 },
      { key: "reports/Отчёт budget.pdf", size: 1, lastModified: 2 },
      { key: "研究/plan budget.pdf", size: 1, lastModified: 1 },
    ];
    const index = new FileIndex({ source: memoryPageSource(files), roots: [""] });
    await index.refresh();
    // One segment for the names that fit one byte a character (the folder does not count), one for the rest.
    expect(index.status().segments).toBe(2);
    expect(index.search("budget", [""], 100).files.map((f) => f.key)).toEqual(files.map((f) => f.key));
    expect(index.search("отчет", ["reports/"], 100).files.map((f) => f.key)).toEqual([
      "reports/Отчёт budget.pdf",
    ]);
  });

  it("holds names with CJK characters apart from other wide names, and finds each kind wherever it is", async () => {
    const files = [
      { key: "plans/Q3 plan – final.docx", size: 1, lastModified: 4 },
      { key: "plans/東京 plan.docx", size: 1, lastModified: 3 },
      { key: "plans/Отчёт plan.docx", size: 1, lastModified: 2 },
      { key: "plans/Q4 plan.docx", size: 1, lastModified: 1 },
    ];
    const index = new FileIndex({ source: memoryPageSource(files), roots: [""] });
    await index.refresh();
    // Latin-1; wider but before CJK (the dash, Cyrillic); CJK.
    expect(index.status().segments).toBe(3);
    expect(index.search("plan", [""], 100).files.map((f) => f.key)).toEqual(files.map((f) => f.key));
    expect(index.search("東京 p", [""], 100).files.map((f) => f.key)).toEqual(["plans/東京 plan.docx"]);
    expect(index.search("– f", [""], 100).files.map((f) => f.key)).toEqual(["plans/Q3 plan – final.docx"]);
    expect(index.search("東京 – ", [""], 100).files).toEqual([]);
  });

  it("estimates less memory for Latin-1 names held apart than for the same names beside one wide name", async () => {
    const latin = Array.from({ length: 2000 }, (_, i) => ({
      key: `docs/Réunion ${i}.docx`,
      size: 1,
      lastModified: i,
    }));
    const alone = new FileIndex({ source: memoryPageSource(latin), roots: [""] });
    await alone.refresh();
    const mixed = new FileIndex({
      source: memoryPageSource([...latin, { key: "docs/議事録.docx", size: 1, lastModified: 0 }]),
      roots: [""],
    });
    await mixed.refresh();
    // Had the wide name shared their segment, every name would cost two bytes a character.
    expect(mixed.status().bytes - alone.status().bytes).toBeLessThan(alone.status().bytes / 4);
  });
});
