import { afterEach, describe, expect, it, vi } from "vitest";
import { FileIndex } from "../../src/search/file-index.js";
import { type ListedObject, memoryPageSource, type PageSource } from "../../src/search/lister.js";
import {
  compareSequencers,
  ObjectEventApplier,
  type ObjectEventApplierOptions,
  parseObjectEvent,
} from "../../src/search/object-events.js";
import { s3Event } from "../support/s3-events.js";

const BUCKET = "handout-files";
const at = (iso: string) => Date.parse(iso);
const file = (key: string, size = 10): ListedObject => ({
  key,
  size,
  lastModified: at("2026-11-01T00:00:00Z"),
});

/** A page source over `objects` (read at each request) that counts its requests. */
function countingSource(objects: ListedObject[]) {
  let requests = 0;
  const source: PageSource = {
    listPage(request, signal) {
      requests++;
      return memoryPageSource(objects).listPage(request, signal);
    },
  };
  return { source, requests: () => requests };
}

async function indexOver(objects: ListedObject[], roots: readonly string[] = ["reports/"]) {
  const counted = countingSource(objects);
  const index = new FileIndex({ source: counted.source, roots });
  await index.refresh();
  return { index, requests: counted.requests };
}

function applierFor(index: FileIndex, options: Partial<ObjectEventApplierOptions> = {}) {
  const applier = new ObjectEventApplier({ index, bucket: BUCKET, ...options });
  return (...events: unknown[]) => applier.applyRaw(events);
}

const keysFound = (index: FileIndex, query: string, prefixes: readonly string[] = ["reports/"]) =>
  index.search(query, prefixes, 100).files.map((f) => f.key);

afterEach(() => {
  vi.useRealTimers();
});

describe("S3 object events in the index", () => {
  it("makes a new file searchable without a listing", async () => {
    const { index, requests } = await indexOver([file("reports/old.pdf")]);
    const before = requests();
    const report = applierFor(index)(
      s3Event("Object Created", "reports/2026/budget.xlsx", "0062E1A0B3C4D5E6F7", {
        size: 4096,
        time: "2026-11-12T10:00:00Z",
      }),
    );
    expect(report).toEqual({ applied: 1, stale: 0, ignored: 0, invalid: 0 });
    expect(index.search("budget", ["reports/"], 10).files).toEqual([
      { key: "reports/2026/budget.xlsx", size: 4096, lastModified: new Date("2026-11-12T10:00:00Z") },
    ]);
    expect(requests()).toBe(before);
  });

  it("stops offering a file that a delete event names", async () => {
    const { index, requests } = await indexOver([file("reports/q3.pdf"), file("reports/q4.pdf")]);
    const before = requests();
    applierFor(index)(s3Event("Object Deleted", "reports/q3.pdf", "0062E1A0B3C4D5E6F7"));
    expect(keysFound(index, "q")).toEqual(["reports/q4.pdf"]);
    expect(requests()).toBe(before);
  });

  it("replaces a file's size when it is uploaded again", async () => {
    const { index } = await indexOver([file("reports/q3.pdf", 10)]);
    applierFor(index)(s3Event("Object Created", "reports/q3.pdf", "0A", { size: 99 }));
    expect(index.search("q3", ["reports/"], 10).files.map((f) => f.size)).toEqual([99]);
    expect(index.files).toBe(1);
  });

  it("keeps a file gone when its creation arrives after its later deletion", async () => {
    const { index } = await indexOver([]);
    const apply = applierFor(index);
    apply(s3Event("Object Deleted", "reports/late.pdf", "0000000000000002"));
    const report = apply(s3Event("Object Created", "reports/late.pdf", "0000000000000001"));
    expect(report.stale).toBe(1);
    expect(keysFound(index, "late")).toEqual([]);
  });

  it("keeps a file offered when an older deletion arrives after its upload", async () => {
    const { index } = await indexOver([]);
    const apply = applierFor(index);
    apply(s3Event("Object Created", "reports/again.pdf", "00FF", { size: 7 }));
    apply(s3Event("Object Deleted", "reports/again.pdf", "00FE"));
    expect(keysFound(index, "again")).toEqual(["reports/again.pdf"]);
  });

  it("changes nothing when an event arrives twice", async () => {
    const { index } = await indexOver([]);
    const apply = applierFor(index);
    const created = s3Event("Object Created", "reports/twice.pdf", "10", { size: 1 });
    const deleted = s3Event("Object Deleted", "reports/twice.pdf", "11");
    apply(created);
    apply(deleted);
    expect(apply(created, deleted)).toMatchObject({ applied: 0, stale: 2 });
    expect(keysFound(index, "twice")).toEqual([]);
  });

  it("applies the latest of a batch that creates and deletes one key, in any order", async () => {
    const { index } = await indexOver([]);
    applierFor(index)(
      s3Event("Object Created", "reports/batch.pdf", "3"),
      s3Event("Object Deleted", "reports/batch.pdf", "2"),
      s3Event("Object Created", "reports/other.pdf", "5"),
      s3Event("Object Deleted", "reports/other.pdf", "6"),
    );
    expect(keysFound(index, "")).toEqual(["reports/batch.pdf"]);
  });

  it("remembers the last sequencers of a bounded number of keys, forgetting the oldest first", async () => {
    const { index } = await indexOver([]);
    const apply = applierFor(index, { maxKeys: 2 });
    apply(s3Event("Object Deleted", "reports/a.pdf", "5"));
    apply(s3Event("Object Deleted", "reports/b.pdf", "5"));
    apply(s3Event("Object Deleted", "reports/a.pdf", "6"));
    apply(s3Event("Object Deleted", "reports/c.pdf", "5"));
    // a was seen last after b: b's tombstone went first, so its late creation is taken (until a listing).
    expect(apply(s3Event("Object Created", "reports/a.pdf", "4")).stale).toBe(1);
    expect(apply(s3Event("Object Created", "reports/b.pdf", "4")).applied).toBe(1);
  });

  it("orders sequencers of different lengths as numbers", () => {
    expect(compareSequencers("FF", "0100")).toBe(-1);
    expect(compareSequencers("0100", "FF")).toBe(1);
    expect(compareSequencers("00ff", "FF")).toBe(0);
    expect(compareSequencers("617f08299329d189", "617F0829932A0000")).toBe(-1);
  });

  it("never offers a key outside the folders the policy grants", async () => {
    const { index } = await indexOver([file("reports/q3.pdf")]);
    applierFor(index)(s3Event("Object Created", "secret/payroll.pdf", "1"));
    expect(keysFound(index, "payroll", [""])).toEqual([]);
    expect(index.files).toBe(1);
  });

  it("never offers a key that is Handout's own, such as its index snapshot", async () => {
    const { index } = await indexOver([], [""]);
    const ownKey = (key: string) => key.startsWith(".handout/");
    const report = applierFor(index, { ownKey })(
      s3Event("Object Created", ".handout/index/snapshot-1.bin", "1"),
    );
    expect(report).toMatchObject({ applied: 0, ignored: 1 });
    expect(keysFound(index, "snapshot", [""])).toEqual([]);
  });

  it("leaves the index alone for another bucket's events", async () => {
    const { index } = await indexOver([]);
    const report = applierFor(index)(s3Event("Object Created", "reports/x.pdf", "1", { bucket: "another" }));
    expect(report.ignored).toBe(1);
    expect(index.files).toBe(0);
  });

  it("refuses what is not an S3 object event, with the reason, and changes nothing", async () => {
    const { index } = await indexOver([file("reports/q3.pdf")]);
    const noSequencer = s3Event("Object Deleted", "reports/q3.pdf", "1") as { detail: { object: object } };
    noSequencer.detail.object = { key: "reports/q3.pdf" };
    const report = applierFor(index)(
      noSequencer,
      { ...s3Event("Object Created", "reports/y.pdf", "1"), "detail-type": "Object Restore Completed" },
      "not an event",
    );
    expect(report).toMatchObject({ applied: 0, invalid: 3 });
    expect(keysFound(index, "")).toEqual(["reports/q3.pdf"]);
    expect(parseObjectEvent(noSequencer)).toEqual({
      ok: false,
      reason: expect.stringContaining("sequencer"),
    });
  });

  it("keeps a file an event added while a listing ran that had not seen it", async () => {
    const objects = [file("reports/a.pdf"), file("reports/b.pdf")];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source: PageSource = {
      async listPage(request, signal) {
        await gate;
        return memoryPageSource(objects).listPage(request, signal);
      },
    };
    const index = new FileIndex({ source, roots: ["reports/"] });
    const listing = index.refresh();
    const apply = applierFor(index);
    apply(s3Event("Object Created", "reports/new.pdf", "1"));
    apply(s3Event("Object Deleted", "reports/a.pdf", "1"));
    release();
    await listing;
    expect(keysFound(index, "").sort()).toEqual(["reports/b.pdf", "reports/new.pdf"]);
  });

  it("lets a listing that starts after an event correct what the events missed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-12T10:00:00Z"));
    const objects = [file("reports/a.pdf")];
    const { index } = await indexOver(objects);
    applierFor(index)(s3Event("Object Created", "reports/new.pdf", "1"));
    // Its deletion's event never came: the next listing, which no longer finds it, has the last word.
    vi.setSystemTime(new Date("2026-11-12T10:00:01Z"));
    await index.refresh();
    expect(keysFound(index, "")).toEqual(["reports/a.pdf"]);
  });

  it("stays searchable through more events than one overlay segment holds", async () => {
    const { index } = await indexOver([]);
    const apply = applierFor(index);
    for (let batch = 0; batch < 150; batch++) {
      const events = Array.from({ length: 10 }, (_, i) =>
        s3Event(
          "Object Created",
          `reports/${batch}/file-${batch * 10 + i}.pdf`,
          (batch * 10 + i + 1).toString(16),
        ),
      );
      apply(...events);
    }
    apply(s3Event("Object Deleted", "reports/3/file-30.pdf", "FFFF"));
    apply(s3Event("Object Created", "reports/0/file-1.pdf", "FFFF", { size: 777 }));
    expect(index.files).toBe(1_499);
    expect(index.search("file-1.pdf", ["reports/"], 1).files[0]?.size).toBe(777);
    expect(keysFound(index, "file-1234")).toEqual(["reports/123/file-1234.pdf"]);
    expect(keysFound(index, "file-30.")).toEqual([]);
    expect(keysFound(index, "file-1499")).toEqual(["reports/149/file-1499.pdf"]);
  });
});
