import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { isHandoutError } from "../../src/domain/errors.js";
import { keyProblem } from "../../src/domain/object-key.js";
import { normalizeForSearch, searchByScan } from "../../src/domain/search.js";
import { s3PageSource } from "../../src/files/s3-pages.js";
import { plainlyShareable, Segment, searchSegments } from "../../src/search/file-index.js";
import { listBucket, memoryPageSource, type PageSource } from "../../src/search/lister.js";
import { listAll, recording } from "../support/listing.js";

describe("search over the index", () => {
  const part = fc.constantFrom(
    "Report",
    "report",
    "Résumé",
    "RESUME",
    "a",
    "b",
    "2024",
    "Q3 report.pdf",
    "é",
    "E",
    "Отчёт Q3",
    "東京 report",
    "plan – 2024",
  );
  const keyArb = fc.array(part, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));
  const corpusArb = fc
    .uniqueArray(fc.record({ key: keyArb, time: fc.integer({ min: 1, max: 5 }) }), {
      selector: (f) => f.key,
      maxLength: 60,
    })
    .map((files) => files.map((f) => ({ key: f.key, size: f.key.length, lastModified: f.time })));

  it("answers exactly as a plain scan of every key would, however the files are split", () => {
    fc.assert(
      fc.property(
        corpusArb,
        fc.oneof(
          part,
          fc.constantFrom(
            "",
            " ",
            "/",
            "a/b",
            "port/q3",
            "resume",
            "EPO",
            "2024/",
            "q3 r",
            "zzz",
            "a\nb",
            "отчёт",
            "東京",
            "京 r",
            "– 2",
          ),
        ),
        fc.subarray(["", "a/", "Report/", "b/", "a/b/", "RESUME/"]),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (files, query, prefixes, limit, pieces, goneAt) => {
          const gone = new Set(goneAt.map((n) => files[n % Math.max(1, files.length)]?.key));
          const segments: Segment[] = [];
          const size = Math.ceil(files.length / pieces) || 1;
          for (let at = 0; at < files.length; at += size)
            segments.push(new Segment(files.slice(at, at + size)));
          for (const key of gone) for (const segment of segments) if (key) segment.markGone(key);

          const shareable = files.filter((f) => keyProblem(f.key) === undefined && !gone.has(f.key));
          const expected = searchByScan(
            shareable,
            shareable.map((f) => normalizeForSearch(f.key)),
            query,
            prefixes,
            limit,
          );
          const found = searchSegments(segments, query, prefixes, limit);
          expect(found.map((f) => f.key)).toEqual(expected.map((f) => f.key));
          for (const file of found) expect(prefixes.some((p) => file.key.startsWith(p))).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("answers as a plain scan where thousands of names share their first letters", () => {
    // Thousands of names start with "img_" (one bucket), so rare queries walk far and hand over to a
    // scan; a few old files are named exactly like a query, which only the lengths can find cheaply.
    const files = Array.from({ length: 6000 }, (_, i) => ({
      key: `photos/${2016 + (i % 9)}/IMG_${20160101 + i}_${String(i % 997).padStart(3, "0")}.JPG`,
      size: i,
      lastModified: 1_000_000 + ((i * 7919) % 6000) * 1000,
    }));
    files.push(
      { key: "old/img_2019", size: 1, lastModified: 5 },
      { key: "older/IMG_2019", size: 1, lastModified: 4 },
      { key: "photos/img_20161234_999.jpg", size: 1, lastModified: 3 },
      // The oldest file, named as a one-letter query: after thousands of newer names starting with it.
      { key: "old/I", size: 1, lastModified: 2 },
    );
    const segments = [new Segment(files.slice(0, 4000)), new Segment(files.slice(4000))];
    const normalized = files.map((f) => normalizeForSearch(f.key));
    for (const query of ["img_2019", "IMG_20161234", "img_20165", "im", "i", "img_20162000_8", "jpg"]) {
      for (const prefixes of [[""], ["photos/2019/"], ["old/", "older/"]]) {
        const expected = searchByScan(files, normalized, query, prefixes, 100).map((f) => f.key);
        expect(searchSegments(segments, query, prefixes, 100).map((f) => f.key)).toEqual(expected);
      }
    }
  });

  it("never takes a key for shareable on its quick check that the full check refuses", () => {
    const awkward = fc.constantFrom("/", ".", "..", "a", "é", "\t", "\u0085", "\ud800", "😀", " ", "%");
    fc.assert(
      fc.property(
        fc.array(awkward, { maxLength: 12 }).map((parts) => parts.join("")),
        (key) => {
          if (plainlyShareable(key)) expect(keyProblem(key)).toBeUndefined();
        },
      ),
      { numRuns: 2000 },
    );
    expect(plainlyShareable("reports/2026/Q1 report.pdf")).toBe(true);
    expect(plainlyShareable("x".repeat(400))).toBe(false);
  });

  it("leaves out keys a link cannot carry, and folder markers", () => {
    const segment = new Segment([
      { key: "docs/", size: 0, lastModified: 1 },
      { key: "docs//twice.txt", size: 1, lastModified: 1 },
      { key: "docs/./dot.txt", size: 1, lastModified: 1 },
      { key: "docs/tab\there.txt", size: 1, lastModified: 1 },
      { key: "docs/fine.txt", size: 7, lastModified: 1 },
    ]);
    expect(segment.files).toBe(1);
    expect(searchSegments([segment], "", [""], 10)).toEqual([
      { key: "docs/fine.txt", size: 7, lastModified: new Date(1) },
    ]);
  });

  it("keeps every size exactly, beyond 32 bits too, up to S3's 5 TB", () => {
    const sizes = [0, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 5 * 2 ** 40];
    const segment = new Segment(sizes.map((size, at) => ({ key: `big/${at}.bin`, size, lastModified: 1 })));
    expect(searchSegments([segment], "", [""], 10).map((file) => file.size)).toEqual(sizes);
    const small = new Segment([{ key: "small.bin", size: 2 ** 32 - 1, lastModified: 1 }]);
    expect(small.parts().sizesHigh).toHaveLength(0);
    expect([...small.entries()]).toEqual([{ key: "small.bin", size: 2 ** 32 - 1, lastModified: 1 }]);
  });

  it("refuses a prefix that is not a folder rather than widen it", () => {
    const segment = new Segment([{ key: "reports-secret/a.pdf", size: 1, lastModified: 1 }]);
    expect(() => searchSegments([segment], "a", ["reports"], 10)).toThrow(/does not end in "\/"/);
  });
});

describe("listBucket", () => {
  const keyArb = fc
    .array(fc.constantFrom("a", "b", "c", "a+b", "é", "x y", ""), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join("/"))
    .filter((key) => key !== "");

  it("delivers every key under the roots exactly once, folder markers left out, in parallel as serially", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, { maxLength: 120 }),
        fc.subarray(["", "a/", "b/", "a/b/", "é/"], { minLength: 1 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 10 }),
        async (keys, roots, concurrency, splitDepth, pageSize, delays) => {
          const memory = memoryPageSource(
            keys.map((key) => ({ key, size: 0, lastModified: 0 })),
            pageSize,
          );
          // Pages that take varying times, so that idle workers take over other tasks' folders.
          let call = 0;
          const store: PageSource = {
            async listPage(request) {
              await new Promise((resolve) => setTimeout(resolve, delays[call++ % delays.length]));
              return memory.listPage(request);
            },
          };
          const covering = roots.includes("")
            ? [""]
            : roots.filter((r) => !roots.some((o) => o !== r && r.startsWith(o)));
          const expected = keys
            .filter((key) => !key.endsWith("/") && covering.some((root) => key.startsWith(root)))
            .sort();
          const serial = await listAll(store, covering, { concurrency: 1, splitDepth: 0 });
          const parallel = await listAll(store, covering, { concurrency, splitDepth });
          expect(serial.keys).toEqual(expected);
          expect(parallel.keys).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("hands many small folders out as a few groups, not a request each", async () => {
    const objects = Array.from({ length: 2000 }, (_, i) => ({
      key: `days/${String(i % 500).padStart(3, "0")}/file ${i}.txt`,
      size: 1,
      lastModified: i,
    }));
    const store = recording(memoryPageSource(objects));
    const { keys, requests } = await listAll(store.source, [""], { concurrency: 4 });
    expect(keys).toHaveLength(2000);
    // 1 for the top, 1 for days/ (500 folders in one page), then one flat range per group.
    expect(requests).toBeLessThan(20);
    expect(store.maxInFlight()).toBeGreaterThan(1);
  });

  it("gives an idle worker the second half of a busy group's folders, still listing each key once", async () => {
    // big/ holds 40 folders; the first 20 hold nearly every file, so their group is the slow one.
    const objects = [
      ...Array.from({ length: 3000 }, (_, i) => `big/f${String(i % 20).padStart(2, "0")}/file ${i}.txt`),
      ...Array.from({ length: 20 }, (_, i) => `big/f${20 + i}/file.txt`),
      "small/one.txt",
    ].map((key) => ({ key, size: 1, lastModified: 0 }));
    const memory = memoryPageSource(objects, 100);
    const store = recording({
      async listPage(request) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return memory.listPage(request);
      },
    });
    const { keys } = await listAll(store.source, [""], { concurrency: 2 });
    expect(keys).toEqual(objects.map((o) => o.key).sort());
    // Width 4 at the top, 2 for big/: its 40 folders start as two groups, at f00 and f20.
    const starts = new Set(store.requests.flatMap((r) => (r.startAfter ? [r.startAfter] : [])));
    expect(
      [...starts].filter((start) => start !== "big/f00/" && start !== "big/f20/").length,
    ).toBeGreaterThan(0);
  });

  it("stops at once when aborted", async () => {
    const controller = new AbortController();
    const store: PageSource = {
      async listPage(request) {
        controller.abort(new Error("stop"));
        return {
          objects: [{ key: `${request.prefix}x`, size: 0, lastModified: 0 }],
          folders: [],
          continuationToken: "more",
        };
      },
    };
    await expect(
      listBucket(store, ["a/"], { splitDepth: 0, onObjects: () => {}, signal: controller.signal }),
    ).rejects.toThrow("stop");
  });

  it("lets every request in flight listen for the abort without a leak warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const objects = Array.from({ length: 64 }, (_, i) => ({
        key: `f${String(i).padStart(2, "0")}/x.txt`,
        size: 1,
        lastModified: 0,
      }));
      const memory = memoryPageSource(objects);
      // As the SDK's HTTP handler does, each request listens for the abort until it is answered;
      // the answers wait until sixteen listen at once.
      let listening = 0;
      let most = 0;
      let release: () => void = () => {};
      const allIn = new Promise<void>((resolve) => {
        release = resolve;
      });
      const store: PageSource = {
        async listPage(request, signal) {
          const onAbort = () => {};
          signal?.addEventListener("abort", onAbort);
          listening++;
          most = Math.max(most, listening);
          if (listening >= 16) release();
          if (!request.delimited) await allIn;
          listening--;
          signal?.removeEventListener("abort", onAbort);
          return memory.listPage(request);
        },
      };
      const controller = new AbortController();
      let delivered = 0;
      await listBucket(store, [""], {
        concurrency: 16,
        signal: controller.signal,
        onObjects: (batch) => {
          delivered += batch.length;
        },
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(delivered).toBe(64);
      expect(most).toBe(16);
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("s3PageSource", () => {
  // Mocks this client only: the tests below talk to a real server through other clients.
  const client = new S3Client({ region: "us-east-1" });
  const s3 = mockClient(client);
  beforeEach(() => s3.reset());
  afterAll(() => s3.restore());

  const failure = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  /** A clock that moves only when the code under test sleeps. */
  const fakeTime = () => {
    let clock = 0;
    const delays: number[] = [];
    return {
      delays,
      now: () => clock,
      sleep: async (ms: number) => {
        delays.push(ms);
        clock += ms;
      },
    };
  };

  it("backs off and retries when S3 throttles (SlowDown, 503, 429)", async () => {
    s3.on(ListObjectsV2Command)
      .rejectsOnce(failure("SlowDown", 503))
      .rejectsOnce(failure("ServiceUnavailable", 503))
      .rejectsOnce(failure("TooManyRequests", 429))
      .resolves({ Contents: [{ Key: "a.txt", Size: 3, LastModified: new Date(5000) }] });
    const time = fakeTime();
    const page = await s3PageSource(client, "bucket", { ...time, random: () => 1 }).listPage({ prefix: "" });
    expect(page.objects).toEqual([{ key: "a.txt", size: 3, lastModified: 5000 }]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(4);
    expect(time.delays).toEqual([200, 400, 800]);
  });

  it("keeps its other requests waiting while S3 asks it to slow down", async () => {
    s3.on(ListObjectsV2Command).rejectsOnce(failure("SlowDown", 503)).resolves({ Contents: [] });
    let clock = 0;
    const sleeps: { ms: number; wake: () => void }[] = [];
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        sleeps.push({ ms, wake: resolve });
      });
    const source = s3PageSource(client, "bucket", { sleep, now: () => clock, random: () => 1 });
    const first = source.listPage({ prefix: "a/" });
    await vi.waitFor(() => expect(sleeps).toHaveLength(1));
    clock = 50;
    const second = source.listPage({ prefix: "b/" });
    await vi.waitFor(() => expect(sleeps).toHaveLength(2));
    // The second request waits out the rest of the pause before it is even sent.
    expect(sleeps.map((s) => s.ms)).toEqual([200, 150]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(1);
    clock = 200;
    for (const s of sleeps) s.wake();
    await Promise.all([first, second]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(3);
  });

  it("gives up after its attempts with a message that says what happened", async () => {
    s3.on(ListObjectsV2Command).rejects(failure("SlowDown", 503));
    const error = await s3PageSource(client, "bucket", { ...fakeTime(), maxAttempts: 3 })
      .listPage({ prefix: "" })
      .catch((e: unknown) => e);
    expect(isHandoutError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/throttling.*after 3 attempts/);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(3);
  });

  it("does not retry a denial, and names the permission to grant", async () => {
    s3.on(ListObjectsV2Command).rejects(failure("AccessDenied", 403));
    const error = await s3PageSource(client, "bucket", fakeTime())
      .listPage({ prefix: "" })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain("s3:ListBucket");
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(1);
  });

  it("asks for url-encoded keys and decodes them, telling a space from a plus", async () => {
    s3.on(ListObjectsV2Command).resolves({
      EncodingType: "url",
      Contents: [
        { Key: "run+books/a+b.txt", Size: 1 },
        { Key: "a%2Bb.txt", Size: 1 },
        { Key: "100%25.csv", Size: 1 },
        { Key: "%ED%95%9C%EA%B8%80/x.txt", Size: 1 },
      ],
      CommonPrefixes: [{ Prefix: "run+books/" }],
      IsTruncated: true,
      NextContinuationToken: "token+1",
    });
    const page = await s3PageSource(client, "bucket").listPage({ prefix: "a b/", delimited: true });
    expect(page.objects.map((o) => o.key)).toEqual([
      "run books/a b.txt",
      "a+b.txt",
      "100%.csv",
      "한글/x.txt",
    ]);
    expect(page.folders).toEqual(["run books/"]);
    expect(page.continuationToken).toBe("token+1");
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Bucket: "bucket",
      Prefix: "a b/",
      Delimiter: "/",
      EncodingType: "url",
    });
  });

  it("keeps keys as they are from a store that ignores encoding-type", async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: "a+b 100%25.txt", Size: 1 }] });
    const page = await s3PageSource(client, "bucket").listPage({ prefix: "" });
    expect(page.objects.map((o) => o.key)).toEqual(["a+b 100%25.txt"]);
  });
});
