import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileIndex } from "../src/search/file-index.js";
import { memoryPageSource } from "../src/search/lister.js";
import { decodeSnapshot, encodeSnapshot } from "../src/search/snapshot.js";
import { corpus } from "./search.js";

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * The index snapshot at a million keys: its size, the time to write it, and the time from reading the
 * file to a complete index, beside the baseline of building the same index from a listing that costs
 * nothing per request (the floor of any listing).
 */
export async function run(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const files = corpus(1_000_000);
  const expected = { bucket: "s3://bench", roots: [""] };
  let start = process.hrtime.bigint();
  const listed = new FileIndex({ source: memoryPageSource(files), roots: [""] });
  await listed.refresh();
  figures["snapshot.1m.naive_load_ms"] = round(since(start));

  const dir = await mkdtemp(join(tmpdir(), "handout-bench-snapshot-"));
  try {
    const path = join(dir, "index.snapshot");
    start = process.hrtime.bigint();
    const bytes = await encodeSnapshot({ ...expected, listedAt: 0 }, listed.segmentParts());
    await writeFile(path, bytes);
    figures["snapshot.1m.write_ms"] = round(since(start));
    figures["snapshot.1m.size_mb"] = round(bytes.length / 2 ** 20);

    start = process.hrtime.bigint();
    const snapshot = await decodeSnapshot(await readFile(path), expected);
    figures["snapshot.1m.decode_ms"] = round(since(start));
    const index = new FileIndex({ source: memoryPageSource([]), roots: [""] });
    index.seed(snapshot.segments);
    figures["snapshot.1m.load_ms"] = round(since(start));
    figures["snapshot.1m.files"] = index.status().files;
    figures["snapshot.1m.speedup"] = round(
      (figures["snapshot.1m.naive_load_ms"] as number) / (figures["snapshot.1m.load_ms"] as number),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
