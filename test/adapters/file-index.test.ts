import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { s3PageSource } from "../../src/files/s3-pages.js";
import { FileIndex } from "../../src/search/file-index.js";
import { type ListPage, memoryPageSource, type PageSource } from "../../src/search/lister.js";
import { KeyRefs } from "../../src/slack/key-refs.js";
import { listAll, recording, sortedKeys } from "../support/listing.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";

describe("the file index over a real S3 server", () => {
  let bucket: TestBucket;
  // s3rver reports a folder to a delimited listing only when the folder holds a file directly (its
  // walk skips deeper directories before seeing their files); S3 has no such gap. So each folder here
  // holds a file of its own, and the parallel listing can be compared with the serial one.
  const regular: string[] = [];
  for (let team = 0; team < 12; team++) {
    regular.push(`team ${team}/summary.txt`);
    for (let year = 2020; year < 2024; year++) {
      for (let n = 0; n < 50; n++) regular.push(`team ${team}/${year}/report ${n}.txt`);
    }
  }
  const awkward = [
    "a+b/plus.txt",
    "a b/space.txt",
    "100%/percent.txt",
    "100%25/literal percent-25.txt",
    "Équipe finance/Réunion été.pdf",
    "日本語/資料 2024.pdf",
    "emoji 😀/smile.png",
    "q?a#b&c=d/odd.txt",
    "README.md",
  ];
  const all = [...regular, ...awkward];

  beforeAll(async () => {
    bucket = await startTestBucket();
    const queue = [...all, "team 0/"];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) await bucket.put(key);
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await bucket?.stop();
  });

  const source = () => s3PageSource(bucket.client, bucket.name);
  const remove = (key: string) =>
    bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: key }));

  it("lists thousands of keys across pages", async () => {
    const { keys, requests } = await listAll(source(), [""], { concurrency: 1, splitDepth: 0 });
    expect(keys).toEqual([...all].sort());
    expect(requests).toBe(3);
  });

  it("lists exactly the same keys in parallel as serially", async () => {
    const serial = await listAll(source(), [""], { concurrency: 1, splitDepth: 0 });
    const store = recording(source());
    const parallel = await listAll(store.source, [""], { concurrency: 8 });
    expect(parallel.keys).toEqual(serial.keys);
    expect(store.requests.some((r) => r.delimited)).toBe(true);
    expect(store.maxInFlight()).toBeGreaterThan(1);
  });

  it("indexes only the granted prefixes, awkward characters included", async () => {
    const roots = ["a+b/", "100%/", "Équipe finance/", "日本語/", "emoji 😀/", "q?a#b&c=d/", "team 3/2021/"];
    const index = new FileIndex({ source: source(), roots });
    const report = await index.refresh();
    const expected = all.filter((key) => roots.some((root) => key.startsWith(root))).sort();
    expect(report.files).toBe(expected.length);
    expect(sortedKeys(index.search("", [""], 100).files)).toEqual(expected);
    expect(index.search("space", [""], 100).files).toEqual([]);
    expect(index.search("reunion ETE", ["Équipe finance/"], 10).files.map((f) => f.key)).toEqual([
      "Équipe finance/Réunion été.pdf",
    ]);
    expect(index.search("資料", [""], 10).files.map((f) => f.key)).toEqual(["日本語/資料 2024.pdf"]);
  });

  it("answers a type-ahead search with sizes and dates, newest first within a tier", async () => {
    const index = new FileIndex({ source: source(), roots: ["team 1/", "team 2/"] });
    await index.refresh();
    const result = index.search("report 7", ["team 1/"], 100);
    expect(result.partial).toBe(false);
    expect(result.files.map((f) => f.key).sort()).toEqual(
      regular.filter((k) => k.startsWith("team 1/") && /report 7\.txt$/.test(k)).sort(),
    );
    for (const file of result.files) {
      expect(file.size).toBe(`contents of ${file.key}`.length);
      expect(file.lastModified.getTime()).toBeGreaterThan(0);
    }
    const times = result.files.map((f) => f.lastModified.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("sees additions and deletions when it refreshes", async () => {
    await Promise.all(["live/one.txt", "live/two.txt", "live/three.txt"].map((k) => bucket.put(k)));
    const index = new FileIndex({ source: source(), roots: ["live/"] });
    await index.refresh();
    expect(index.status().files).toBe(3);
    // The same prefixes before and after: nothing the index remembers about them may go stale.
    expect(sortedKeys(index.search("", ["live/"], 100).files)).toEqual([
      "live/one.txt",
      "live/three.txt",
      "live/two.txt",
    ]);
    await bucket.put("live/sub/four.txt");
    await remove("live/two.txt");
    await index.refresh();
    expect(sortedKeys(index.search("", ["live/"], 100).files)).toEqual([
      "live/one.txt",
      "live/sub/four.txt",
      "live/three.txt",
    ]);
    expect(index.status().files).toBe(3);
  });

  it("keeps the last good index when a refresh fails, and reports the failure", async () => {
    let failing = false;
    const inner = source();
    const flaky: PageSource = {
      listPage: (request, signal) =>
        failing
          ? Promise.reject(new Error("Could not list s3://handout-test (network down)"))
          : inner.listPage(request, signal),
    };
    const warn = vi.fn();
    const index = new FileIndex({ source: flaky, roots: ["team 4/"], logger: { info: () => {}, warn } });
    await index.refresh();
    const before = index.search("report 1", [""], 100).files;
    expect(before.length).toBeGreaterThan(0);

    failing = true;
    await expect(index.refresh()).rejects.toThrow("network down");
    expect(index.search("report 1", [""], 100)).toEqual({ files: before, partial: false });
    const status = index.status();
    expect(status).toMatchObject({ files: 201, complete: true, building: false });
    expect(status.lastError?.message).toContain("network down");
    expect(warn).toHaveBeenCalledWith(
      expect.anything(),
      expect.stringContaining("keep using the last complete index"),
    );

    failing = false;
    await index.refresh();
    expect(index.status().lastError).toBeUndefined();
  });

  it("retries a failed first listing in the background", async () => {
    let failures = 1;
    const inner = source();
    const flaky: PageSource = {
      listPage: (request, signal) =>
        failures-- > 0 ? Promise.reject(new Error("first attempt fails")) : inner.listPage(request, signal),
    };
    const index = new FileIndex({ source: flaky, roots: ["team 5/"], retryIntervalMs: 20 });
    index.start();
    try {
      await vi.waitFor(() => expect(index.status().complete).toBe(true), { timeout: 10_000 });
      expect(index.status().files).toBe(201);
    } finally {
      await index.stop();
    }
  });

  it("answers from what is listed so far while the first listing runs, marked partial", async () => {
    const inner = source();
    let pages = 0;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: PageSource = {
      async listPage(request, signal): Promise<ListPage> {
        if (pages++ >= 1) await released;
        return inner.listPage(request, signal);
      },
    };
    const firstPage = await inner.listPage({ prefix: "" });
    const index = new FileIndex({
      source: gated,
      roots: [""],
      concurrency: 1,
      splitDepth: 0,
      sealIntervalMs: 0,
    });
    index.start();
    try {
      await vi.waitFor(() => expect(pages).toBe(2));
      const early = index.search("report", [""], 100);
      expect(early.partial).toBe(true);
      expect(early.files.length).toBe(100);
      const status = index.status();
      expect(status).toMatchObject({ complete: false, building: true });
      expect(status.files).toBe(firstPage.objects.filter((o) => !o.key.endsWith("/")).length);
      // Keys sort "team 1…" before "team 9…": the first page cannot hold team 9.
      expect(index.search("report", ["team 9/"], 100).files).toEqual([]);

      release();
      await vi.waitFor(() => expect(index.status().complete).toBe(true), { timeout: 10_000 });
      expect(index.search("report", ["team 9/"], 100)).toMatchObject({ partial: false });
      expect(index.search("report", ["team 9/"], 100).files).toHaveLength(100);
      // Other tests add files beside these: compare with a plain listing of the bucket now.
      expect(index.status().files).toBe(
        (await listAll(inner, [""], { concurrency: 1, splitDepth: 0 })).keys.length,
      );
    } finally {
      release();
      await index.stop();
    }
  });

  it("stops offering a file reported gone at once, and re-lists soon", async () => {
    await Promise.all(["gone/keep.txt", "gone/lost.txt"].map((k) => bucket.put(k)));
    const index = new FileIndex({
      source: source(),
      roots: ["gone/"],
      refreshSoonDelayMs: 10,
      goneRelistIntervalMs: 10,
    });
    index.start();
    try {
      await vi.waitFor(() => expect(index.status().complete).toBe(true), { timeout: 10_000 });
      const first = index.status().refreshedAt;
      await remove("gone/lost.txt");
      index.fileGone("gone/lost.txt");
      expect(index.search("lost", [""], 10).files).toEqual([]);
      expect(index.status().files).toBe(1);
      await vi.waitFor(() => expect(index.status().refreshedAt).not.toEqual(first), { timeout: 10_000 });
      expect(sortedKeys(index.search("", [""], 10).files)).toEqual(["gone/keep.txt"]);
    } finally {
      await index.stop();
    }
  });

  it("re-lists for a file found gone only when the index held it, and at most once a minute", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    let files = ["kept/a.txt", "kept/b.txt", "kept/c.txt"].map((key) => ({ key, size: 1, lastModified: 0 }));
    const remove = (key: string) => {
      files = files.filter((file) => file.key !== key);
    };
    const { source: counted, requests } = recording({
      listPage: (request, signal) => memoryPageSource(files).listPage(request, signal),
    });
    const index = new FileIndex({ source: counted, roots: [""] });
    index.start();
    try {
      await vi.advanceTimersByTimeAsync(0);
      expect(index.status().complete).toBe(true);
      const listing = requests.length;

      // Made-up keys, however many, are no reason to list the bucket.
      for (let i = 0; i < 50; i++) index.fileGone(`kept/made-up ${i}.txt`);
      await vi.advanceTimersByTimeAsync(9 * 60_000);
      expect(requests.length).toBe(listing);

      // One that was indexed: a listing a few seconds later (the last began nine minutes ago).
      remove("kept/a.txt");
      index.fileGone("kept/a.txt");
      index.fileGone("kept/a.txt");
      await vi.advanceTimersByTimeAsync(5_000);
      expect(requests.length).toBe(2 * listing);

      // Another, ten seconds after that listing began, waits until a minute after it began.
      await vi.advanceTimersByTimeAsync(10_000);
      remove("kept/b.txt");
      index.fileGone("kept/b.txt");
      expect(sortedKeys(index.search("", [""], 10).files)).toEqual(["kept/c.txt"]);
      await vi.advanceTimersByTimeAsync(49_000);
      expect(requests.length).toBe(2 * listing);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(requests.length).toBe(3 * listing);
      expect(sortedKeys(index.search("", [""], 10).files)).toEqual(["kept/c.txt"]);
    } finally {
      await index.stop();
      vi.useRealTimers();
    }
  });

  it("gives back a long key from its option value in a process that never offered it", async () => {
    const folder = `deep/${"a long folder name ".repeat(7)}/`;
    const keys = [
      `${folder}minutes 2026.pdf`,
      `${folder}minutes 2025.pdf`,
      `${folder}notes.txt`,
      "deep/x.pdf",
    ];
    await Promise.all(keys.map((k) => bucket.put(k)));
    // Two segments, so that keys with the same start are found in each.
    const index = new FileIndex({ source: source(), roots: ["deep/"], segmentSize: 2 });
    await index.refresh();
    expect([...index.keysStartingWith(folder)].sort()).toEqual(keys.slice(0, 3).sort());
    expect([...index.keysStartingWith("deep/x")]).toEqual(["deep/x.pdf"]);

    const value = new KeyRefs().toValue(keys[1] as string);
    expect(value.startsWith("p:")).toBe(true);
    expect(new KeyRefs(index).fromValue(value)).toBe(keys[1]);
    index.fileGone(keys[1] as string);
    expect([...index.keysStartingWith(folder)].sort()).toEqual([keys[0], keys[2]].sort());
    expect(new KeyRefs(index).fromValue(value)).toBeUndefined();
    await index.stop();
  });

  it("re-lists on its interval and picks up new files", async () => {
    await bucket.put("tick/first.txt");
    const index = new FileIndex({ source: source(), roots: ["tick/"], refreshIntervalMs: 30 });
    index.start();
    try {
      await vi.waitFor(() => expect(index.status().complete).toBe(true), { timeout: 10_000 });
      await bucket.put("tick/second.txt");
      await vi.waitFor(() => expect(index.search("second", [""], 10).files).toHaveLength(1), {
        timeout: 10_000,
      });
    } finally {
      await index.stop();
    }
  });

  it("stops a listing under way", async () => {
    const never: PageSource = {
      listPage: (_request, signal) =>
        new Promise((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    };
    const index = new FileIndex({ source: never, roots: [""] });
    const running = index.refresh();
    await index.stop();
    await expect(running).rejects.toThrow("stopped");
    expect(index.status()).toMatchObject({ building: false, complete: false });
    await expect(index.refresh()).rejects.toThrow("stopped");
  });
});

describe("handout index stats", () => {
  let bucket: TestBucket;
  let dir: string;
  const output = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err };
  };
  const run = async (args: string[], env: Record<string, string>) => {
    const { out, err } = output();
    const code = await runCli(["index", ...args], {
      env,
      cwd: dir,
      now: () => new Date(),
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    return { code, out: out.join(""), err: err.join("") };
  };

  beforeAll(async () => {
    bucket = await startTestBucket("handout-cli");
    dir = await mkdtemp(join(tmpdir(), "handout-index-"));
    await Promise.all(
      [
        ...Array.from({ length: 30 }, (_, i) => `reports/q${i}.pdf`),
        "reports/",
        "reports/tab\there.txt",
        "private/secret.txt",
      ].map((k) => bucket.put(k)),
    );
    await writeFile(
      join(dir, "access.yml"),
      "rules:\n  - who: { everyone: true }\n    prefixes: [reports/]\n  - who: { users: [U0123ABCD] }\n    prefixes: [reports/2026/]\n",
    );
    for (const [name, value] of Object.entries(bucket.env)) vi.stubEnv(name, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await bucket?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("builds the index for the granted prefixes and prints its size, time and memory", async () => {
    const env = { ...bucket.env, HANDOUT_POLICY_FILE: join(dir, "access.yml") };
    const { code, out, err } = await run(["stats"], env);
    expect(code).toBe(0);
    expect(out).toContain("Indexed s3://handout-cli (reports/)");
    expect(out).toMatch(/files: +30 \(and 1 left out: keys a link cannot carry/);
    expect(out).toMatch(/build time: +\d+\.\d s \(\d+ list requests\)/);
    expect(out).toMatch(/memory: +about \d+\.\d MB held by the index/);
    expect(err).toContain("Listing s3://handout-cli");
  });

  it("prints figures as JSON on request", async () => {
    const env = { ...bucket.env, HANDOUT_POLICY_FILE: join(dir, "access.yml") };
    const { code, out } = await run(["stats", "--json"], env);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      store: "s3://handout-cli",
      prefixes: ["reports/"],
      files: 30,
      skipped: 1,
    });
  });

  it("indexes the local folder when no bucket is configured", async () => {
    await mkdir(join(dir, "files", "reports", "2026"), { recursive: true });
    await writeFile(join(dir, "files", "reports", "2026", "Q1 résumé.pdf"), "pdf");
    await writeFile(join(dir, "files", "other.txt"), "not granted");
    const { code, out } = await run(["stats"], { HANDOUT_POLICY_FILE: "access.yml" });
    expect(code).toBe(0);
    expect(out).toContain(`Indexed the local folder ${join(dir, "files")} (reports/)`);
    expect(out).toMatch(/files: +1\n/);
  });

  it("explains what is wrong", async () => {
    expect(await run(["stats"], { ...bucket.env, HANDOUT_POLICY_FILE: "missing.yml" })).toMatchObject({
      code: 1,
      err: expect.stringContaining("missing.yml"),
    });
    expect(await run(["build"], bucket.env)).toMatchObject({
      code: 2,
      err: expect.stringContaining("stats"),
    });
    expect(await run(["stats", "--concurrency", "0"], bucket.env)).toMatchObject({
      code: 2,
      err: expect.stringContaining("--concurrency"),
    });
  });
});
