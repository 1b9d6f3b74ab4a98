import { mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHandout } from "../../src/app/server.js";
import { fileSnapshotStore } from "../../src/files/snapshot-store.js";
import { Segment } from "../../src/search/file-index.js";
import { decodeSnapshot, encodeSnapshot, snapshotBody, snapshotBytes } from "../../src/search/snapshot.js";
import { captureLogs } from "../support/log.js";
import { entriesOf, partsOf } from "../support/snapshot.js";
import { tempFolder } from "../support/temp.js";

describe("an index snapshot in a local file", () => {
  it("is whole after writers race, each writing its own temporary file and renaming it", async () => {
    const dir = await tempFolder("snapshot-file");
    const store = fileSnapshotStore(join(dir, "state", "index.snapshot"));
    const expected = { bucket: "s3://handout-test", roots: [""] };
    const writes = Array.from({ length: 8 }, async (_, n) =>
      store.write(
        await snapshotBody(
          { ...expected, listedAt: n },
          partsOf(
            Array.from({ length: 2000 }, (_, i) => ({
              key: `writer-${n}/file-${i}.pdf`,
              size: i,
              lastModified: n,
            })),
          ),
        ),
      ),
    );
    await Promise.all(writes);
    const snapshot = await decodeSnapshot((await store.read()) as Uint8Array, expected);
    const writer = snapshot.header.listedAt;
    expect(entriesOf(snapshot)).toHaveLength(2000);
    expect(entriesOf(snapshot).every((object) => object.key.startsWith(`writer-${writer}/`))).toBe(true);
    expect(await readdir(join(dir, "state"))).toEqual(["index.snapshot"]);
  });

  it("writes, a piece at a time, the bytes of the index as it was when the snapshot was laid out", async () => {
    const dir = await tempFolder("snapshot-pieces");
    const path = join(dir, "index.snapshot");
    const expected = { bucket: "s3://handout-test", roots: [""] };
    // Segments of a few MB each, in several pieces of the file; one wide text among them.
    const segments = [0, 1, 2].map(
      (n) =>
        new Segment(
          Array.from({ length: 60_000 }, (_, i) => ({
            key: `${n === 1 ? "年度" : "reports"}/${n}/q${i % 4} ${"report ".repeat(i % 5)}${i}.pdf`,
            size: i * 1000,
            lastModified: 1_700_000_000_000 + i,
          })),
        ),
    );
    // A file already gone, so that the segment's gone marks exist and the snapshot shares them.
    expect(segments[2]?.markGone("reports/2/q0 0.pdf")).toBe(true);
    const parts = segments.map((segment) => segment.parts());
    const whole = await encodeSnapshot({ ...expected, listedAt: 0 }, parts);
    expect(whole.length).toBeGreaterThan(12 * 2 ** 20);
    const body = await snapshotBody({ ...expected, listedAt: 0 }, parts);
    // A file found gone while the snapshot is written is not in it: the snapshot is of one moment.
    expect(segments[2]?.markGone("reports/2/q1 report 1.pdf")).toBe(true);
    const chunks: number[] = [];
    for await (const chunk of body.chunks()) chunks.push(chunk.length);
    expect(chunks.length).toBeGreaterThan(3);
    expect(Math.max(...chunks)).toBeLessThan(whole.length / 2);
    await fileSnapshotStore(path).write(body);
    const written = await readFile(path);
    expect(written.equals(whole)).toBe(true);
    const snapshot = await decodeSnapshot(written, expected);
    expect(entriesOf(snapshot)).toHaveLength(180_000 - 1);
    expect(entriesOf(snapshot).some((object) => object.key === "reports/2/q1 report 1.pdf")).toBe(true);
    expect(entriesOf(snapshot).some((object) => object.key === "reports/2/q0 0.pdf")).toBe(false);
  });

  it("removes the temporary files that writers stopped mid-save left, not those still being written", async () => {
    const dir = await tempFolder("snapshot-abandoned");
    const path = join(dir, "index.snapshot");
    const store = fileSnapshotStore(path);
    const expected = { bucket: "s3://handout-test", roots: [""] };
    const body = await snapshotBody(
      { ...expected, listedAt: 0 },
      partsOf([{ key: "a.pdf", size: 1, lastModified: 0 }]),
    );
    await store.write(body);
    // Times relative to the snapshot's own, as the file system gives them: no clock of this process.
    const saved = (await stat(path)).mtime.getTime();
    const abandoned = join(dir, "index.snapshot.4242-0a0b0c0d0e0f.tmp");
    const underWay = join(dir, "index.snapshot.4343-0a0b0c0d0e0f.tmp");
    const unrelated = join(dir, "notes.tmp");
    for (const file of [abandoned, underWay, unrelated]) await writeFile(file, "partial");
    const hoursBefore = new Date(saved - 2 * 3_600_000);
    await utimes(abandoned, hoursBefore, hoursBefore);
    await utimes(unrelated, hoursBefore, hoursBefore);
    await utimes(underWay, new Date(saved), new Date(saved));
    await store.write(body);
    expect((await readdir(dir)).sort()).toEqual([
      "index.snapshot",
      "index.snapshot.4343-0a0b0c0d0e0f.tmp",
      "notes.tmp",
    ]);
    expect(await readFile(path)).toEqual(await snapshotBytes(body));
  });

  it("inside the served folder, is never offered or signed, and a restart serves it before listing", async () => {
    const dir = await tempFolder("snapshot-local");
    const files = join(dir, "files");
    await mkdir(join(files, "reports"), { recursive: true });
    await writeFile(join(files, "reports", "q1.pdf"), "q1");
    const env = {
      PORT: "0",
      HANDOUT_LOCAL_DIR: files,
      HANDOUT_STATE_DIR: join(dir, ".state"),
      HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
      HANDOUT_INDEX_SNAPSHOT: join(files, "index", "handout.snapshot"),
    };
    const first = await buildHandout(env, captureLogs().logger);
    await first.indexReady;
    await first.index.refresh();
    await first.close();
    expect((await readFile(join(files, "index", "handout.snapshot"))).length).toBeGreaterThan(0);

    const logs = captureLogs();
    const second = await buildHandout(env, logs.logger);
    try {
      await second.indexReady;
      expect(logs.text()).toContain("file index loaded from its snapshot");
      await second.index.refresh();
      const everything = second.index.search("", [""], 100).files.map((file) => file.key);
      expect(everything).toContain("reports/q1.pdf");
      expect(everything).not.toContain("index/handout.snapshot");
      await expect(second.storage.catalog.stat("index/handout.snapshot")).rejects.toThrow(
        /own index snapshot/,
      );
      expect(() =>
        second.storage.signer.sign("index/handout.snapshot", { expiresAt: new Date(Date.now() + 60_000) }),
      ).toThrow(/own index snapshot/);
    } finally {
      await second.close();
    }
  });
});
