import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareRanked,
  coveringPrefixes,
  MatchTier,
  matchTier,
  normalizeForSearch,
  searchByScan,
} from "../../src/domain/search.js";
import { OPTION_TEXT_MAX, shortenMiddle } from "../../src/slack/blocks/shorten.js";

describe("normalizeForSearch", () => {
  it("ignores case and accents", () => {
    expect(normalizeForSearch("Réunion ÉTÉ")).toBe("reunion ete");
    expect(normalizeForSearch("Müller Ångström Señor Łódź")).toBe("muller angstrom senor lodz");
    expect(normalizeForSearch("MÜLLER")).toBe(normalizeForSearch("muller"));
  });

  it("folds letters people type without their stroke or ligature", () => {
    expect(normalizeForSearch("Straße")).toBe("strasse");
    expect(normalizeForSearch("Øresund Æble Œuvre")).toBe("oresund aeble oeuvre");
    expect(normalizeForSearch("ΟΔΟΣ")).toBe(normalizeForSearch("οδοσ"));
  });

  it("matches a decomposed accent as well as a precomposed one", () => {
    expect(normalizeForSearch("Cafe\u0301")).toBe(normalizeForSearch("Café"));
    expect(normalizeForSearch("İstanbul")).toBe("istanbul");
  });

  it("keeps scripts without accents searchable as they are", () => {
    expect(normalizeForSearch("議事録")).toBe("議事録");
    expect(normalizeForSearch("한글 문서")).toBe("한글 문서");
    expect(normalizeForSearch("Отчёт")).toBe("отчет");
  });

  it("is idempotent and never adds or removes a slash", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
        const once = normalizeForSearch(text);
        expect(normalizeForSearch(once)).toBe(once);
        expect(once.split("/").length).toBe(text.split("/").length);
      }),
    );
  });

  it("normalises a key as its folder and its name normalised apart", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 15 }),
        fc.string({ unit: "grapheme", maxLength: 15 }),
        (folder, name) => {
          const dir = `${folder}/`;
          const file = name.replaceAll("/", "");
          expect(normalizeForSearch(dir + file)).toBe(normalizeForSearch(dir) + normalizeForSearch(file));
        },
      ),
    );
  });
});

describe("matchTier", () => {
  const tier = (key: string, query: string) => matchTier(normalizeForSearch(key), normalizeForSearch(query));

  it("ranks an exact name, a name prefix, a match inside the name and a path match", () => {
    expect(tier("reports/Q3 Report.pdf", "q3 report.pdf")).toBe(MatchTier.exactName);
    expect(tier("reports/Q3 Report.pdf", "q3 rep")).toBe(MatchTier.namePrefix);
    expect(tier("reports/Q3 Report.pdf", "report")).toBe(MatchTier.inName);
    expect(tier("reports/Q3 Report.pdf", "reports/")).toBe(MatchTier.inPath);
    expect(tier("reports/Q3 Report.pdf", "invoice")).toBeUndefined();
  });

  it("prefers the name when the query is in both the folder and the name", () => {
    expect(tier("report/report.pdf", "report")).toBe(MatchTier.namePrefix);
  });

  it("matches a query that spans the last slash as a path match", () => {
    expect(tier("finance/2024/Invoice 12.pdf", "2024/inv")).toBe(MatchTier.inPath);
  });
});

describe("compareRanked", () => {
  it("orders by tier, then newer first, then by key", () => {
    const items = [
      { key: "b", tier: MatchTier.inName, lastModified: 5 },
      { key: "a", tier: MatchTier.inPath, lastModified: 9 },
      { key: "c", tier: MatchTier.inName, lastModified: 7 },
      { key: "a", tier: MatchTier.inName, lastModified: 5 },
      { key: "z", tier: MatchTier.exactName, lastModified: 1 },
    ];
    expect(items.sort(compareRanked).map((i) => `${i.key}${i.tier}`)).toEqual(["z0", "c2", "a2", "b2", "a3"]);
  });
});

describe("coveringPrefixes", () => {
  it("drops prefixes that another covers", () => {
    expect(coveringPrefixes(["reports/2026/", "reports/", "finance/", "reports-secret/"])).toEqual([
      "finance/",
      "reports-secret/",
      "reports/",
    ]);
    expect(coveringPrefixes(["reports/", ""])).toEqual([""]);
  });

  it("refuses a prefix that is not a folder", () => {
    expect(() => coveringPrefixes(["reports"])).toThrow(/does not end in "\/"/);
  });
});

describe("searchByScan", () => {
  const files = [
    { key: "reports/summary.pdf", lastModified: 1 },
    { key: "reports/Summary 2026.pdf", lastModified: 3 },
    { key: "reports/old summary.pdf", lastModified: 9 },
    { key: "summary/notes.txt", lastModified: 8 },
    { key: "reports-secret/summary.pdf", lastModified: 10 },
    { key: "reports/Résumé.docx", lastModified: 2 },
  ];
  const normalized = files.map((f) => normalizeForSearch(f.key));
  const keys = (query: string, prefixes: readonly string[] = [""], limit = 100) =>
    searchByScan(files, normalized, query, prefixes, limit).map((f) => f.key);

  it("ranks exact name, name prefix, inside the name, then path; newer first within a tier", () => {
    expect(keys("summary.pdf")).toEqual([
      "reports-secret/summary.pdf",
      "reports/summary.pdf",
      "reports/old summary.pdf",
    ]);
    expect(keys("SUMMARY")).toEqual([
      "reports-secret/summary.pdf",
      "reports/Summary 2026.pdf",
      "reports/summary.pdf",
      "reports/old summary.pdf",
      "summary/notes.txt",
    ]);
  });

  it("never answers a key outside the prefixes, matched by whole folders", () => {
    expect(keys("summary", ["reports/"])).not.toContain("reports-secret/summary.pdf");
    expect(keys("summary", ["reports/"])).toHaveLength(3);
    expect(keys("summary", [])).toEqual([]);
  });

  it("ignores accents in the query and in the key", () => {
    expect(keys("resume")).toEqual(["reports/Résumé.docx"]);
    expect(keys("RÉSUMÉ")).toEqual(["reports/Résumé.docx"]);
  });

  it("offers the most recent files for an empty query, and at most the limit (100 at most)", () => {
    expect(keys("  ", [""], 2)).toEqual(["reports-secret/summary.pdf", "reports/old summary.pdf"]);
    const many = Array.from({ length: 150 }, (_, i) => ({ key: `f/${i}.txt`, lastModified: i }));
    const found = searchByScan(
      many,
      many.map((f) => f.key),
      "",
      [""],
      500,
    );
    expect(found).toHaveLength(100);
    expect(found[0]?.key).toBe("f/149.txt");
  });
});

describe("shortenMiddle", () => {
  it("leaves a name that fits alone", () => {
    expect(shortenMiddle("Q3 report.pdf")).toBe("Q3 report.pdf");
    expect(shortenMiddle("x".repeat(OPTION_TEXT_MAX))).toBe("x".repeat(OPTION_TEXT_MAX));
  });

  it("cuts a long name in the middle and keeps its start, its end and its extension", () => {
    const name =
      "Quarterly financial report for the board of directors, prepared by finance, final version 3.pdf";
    const short = shortenMiddle(name);
    expect(short.length).toBeLessThanOrEqual(75);
    expect(short).toMatch(/^Quarterly financial report/);
    expect(short).toMatch(/version 3\.pdf$/);
    expect(short).toContain("…");
  });

  it("never splits an emoji or a letter from its accent", () => {
    const family = "👨‍👩‍👧‍👦";
    const short = shortenMiddle(`${family.repeat(20)}.png`, 30);
    expect(short.length).toBeLessThanOrEqual(30);
    expect(short.replace("…", "").replace(".png", "").replaceAll(family, "")).toBe("");
    const accents = shortenMiddle(`${"e\u0301".repeat(50)}.txt`, 20);
    expect(accents.replace("…", "").replace(".txt", "").replaceAll("e\u0301", "")).toBe("");
  });

  it("does not keep an extension that would eat the room", () => {
    const short = shortenMiddle(`${"a".repeat(40)}.${"b".repeat(10)}`, 12);
    expect(short.length).toBeLessThanOrEqual(12);
    expect(short.startsWith("aaaa")).toBe(true);
  });

  it("always fits, and keeps the extension of a long name", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }),
        fc.constantFrom("", ".pdf", ".tar.gz", ".docx"),
        fc.integer({ min: 1, max: 100 }),
        (stem, extension, max) => {
          const name = stem.replaceAll(".", "_") + extension;
          const short = shortenMiddle(name, max);
          expect(short.length).toBeLessThanOrEqual(max);
          if (name.length <= max) expect(short).toBe(name);
          else if (extension && max >= 30)
            expect(short.endsWith(extension.slice(extension.lastIndexOf(".")))).toBe(true);
        },
      ),
    );
  });
});
