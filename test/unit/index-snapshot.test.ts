import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FileIndex } from "../../src/search/file-index.js";
import { memoryPageSource } from "../../src/search/lister.js";
import {
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_VERSION,
  SnapshotRejected,
} from "../../src/search/snapshot.js";
import { entriesOf, partsOf } from "../support/snapshot.js";

const OBJECTS = [
  { key: "reports/q1 2026.pdf", size: 1200, lastModified: 1_700_000_000_000 },
  { key: "reports/ünïcode/naïve café.txt", size: 0, lastModified: 1_700_000_500_000 },
  { key: "public/handbook/handbook.pdf", size: 5_000_000_000, lastModified: 1_600_000_000_000 },
];
const THIS = { bucket: "s3://handout-test", roots: ["public/handbook/", "reports/"] };

const encoded = () => encodeSnapshot({ ...THIS, listedAt: 1_700_000_600_000 }, partsOf(OBJECTS));

/** `bytes` with its payload changed by `change` and checksummed again, as a faulty writer would leave it. */
const rewritten = (bytes: Buffer, change: (payload: Buffer) => void): Buffer => {
  const body = Buffer.from(bytes.subarray(44));
  change(body);
  const frame = Buffer.from(bytes.subarray(0, 44));
  createHash("sha256").update(body).digest().copy(frame, 12);
  return Buffer.concat([frame, body]);
};

/** Where the first segment's parts begin in the payload: after the header, padded to 8 bytes. */
const partsStart = (payload: Buffer): number => {
  const end = 4 + payload.readUInt32BE(0);
  return end + ((8 - (end % 8)) % 8);
};

const rejection = async (bytes: Uint8Array, expected = THIS): Promise<string> => {
  const error = await decodeSnapshot(bytes, expected).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotRejected);
  return (error as Error).message;
};

describe("the index snapshot format", () => {
  it("gives back every key, size and time it was given, with the listing's facts", async () => {
    const snapshot = await decodeSnapshot(await encoded(), THIS);
    expect(entriesOf(snapshot)).toEqual([...OBJECTS].sort((a, b) => (a.key < b.key ? -1 : 1)));
    expect(snapshot.header).toMatchObject({ ...THIS, listedAt: 1_700_000_600_000, count: 3 });
  });

  it("lays out its bytes as format version 3 always has: a change to them needs a new version", async () => {
    // The digest of this index's snapshot as the encoder of version 3 first wrote it (one buffer,
    // before snapshots were written in pieces): a snapshot saved by an older Handout still loads.
    const bytes = await encoded();
    expect(SNAPSHOT_VERSION).toBe(3);
    expect(bytes.length).toBe(5020);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(
      "7a3e406cc5175881ab31a968256cc5643e9b9bc6e0b253221d6140cca1a2bbda",
    );
  });

  it("refuses a snapshot with one byte changed, by its checksum", async () => {
    const bytes = await encoded();
    const at = bytes.length - 10;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    expect(await rejection(bytes)).toMatch(/checksum/);
  });

  it("refuses a snapshot cut short, as a write that did not finish would leave it", async () => {
    const bytes = await encoded();
    expect(await rejection(bytes.subarray(0, bytes.length - 20))).toMatch(/checksum/);
  });

  it("refuses a snapshot of a newer format version", async () => {
    const bytes = await encoded();
    bytes.writeUInt32BE(SNAPSHOT_VERSION + 1, 8);
    expect(await rejection(bytes)).toMatch(new RegExp(`format version ${SNAPSHOT_VERSION + 1}`));
  });

  it("refuses a snapshot of an earlier format version as an old format", async () => {
    const bytes = await encoded();
    bytes.writeUInt32BE(SNAPSHOT_VERSION - 1, 8);
    expect(await rejection(bytes)).toMatch(new RegExp(`old format \\(version ${SNAPSHOT_VERSION - 1}\\)`));
  });

  it("refuses a checksummed snapshot whose folder of a file lies past the folders", async () => {
    const bytes = rewritten(await encoded(), (payload) => {
      const header = JSON.parse(payload.toString("utf8", 4, 4 + payload.readUInt32BE(0)));
      const [layout] = header.segments;
      // dirOf follows dirNameStarts and dirTextStarts, each padded to 8 bytes.
      const pad = (n: number) => n + ((8 - (n % 8)) % 8);
      const at = partsStart(payload) + pad(layout.arrays.dirNameStarts) + pad(layout.arrays.dirTextStarts);
      payload.writeUInt32LE(1_000, at);
    });
    expect(await rejection(bytes)).toMatch(/parts do not fit together/);
  });

  it("refuses a checksummed snapshot whose name offsets run backwards", async () => {
    const bytes = rewritten(await encoded(), (payload) => {
      const header = JSON.parse(payload.toString("utf8", 4, 4 + payload.readUInt32BE(0)));
      const [layout] = header.segments;
      const pad = (n: number) => n + ((8 - (n % 8)) % 8);
      const at =
        partsStart(payload) +
        pad(layout.arrays.dirNameStarts) +
        pad(layout.arrays.dirTextStarts) +
        pad(layout.arrays.dirOf);
      payload.writeUInt32LE(0xffff_fff0, at + 4);
    });
    expect(await rejection(bytes)).toMatch(/name offsets/);
  });

  it("refuses a checksummed snapshot whose header promises more bytes than it holds", async () => {
    const bytes = rewritten(await encoded(), (payload) => {
      const length = payload.readUInt32BE(0);
      const text = payload.toString("utf8", 4, 4 + length);
      // Same length, so the parts stay where they were; only the size of `names` changes.
      const grown = text.replace(/"names":\{"bytes":\d(\d),/, (_, b) => `"names":{"bytes":9${b},`);
      expect(grown).not.toBe(text);
      payload.write(grown, 4, "utf8");
    });
    expect(await rejection(bytes)).toMatch(/shorter than its header says|do not fit together|longer than/);
  });

  it("refuses a file that is not a snapshot at all", async () => {
    expect(await rejection(Buffer.from("reports/q1 2026.pdf\n"))).toMatch(/not a Handout index snapshot/);
  });

  it("refuses a snapshot of another bucket", async () => {
    expect(await rejection(await encoded(), { ...THIS, bucket: "s3://another-bucket" })).toMatch(
      /of s3:\/\/handout-test, not s3:\/\/another-bucket/,
    );
  });

  it("refuses a snapshot of other folders than the policy grants now", async () => {
    expect(await rejection(await encoded(), { ...THIS, roots: [""] })).toMatch(
      /covers other folders \(public\/handbook\/, reports\/\) than the policy grants \(the whole bucket\)/,
    );
  });
});

describe("an index loaded from its snapshot", () => {
  const files = Array.from({ length: 3_000 }, (_, i) => ({
    key: `${["reports/", "public/handbook/", "archive/2025/", "ünï/"][i % 4]}${i % 7 === 0 ? "Résumé" : "report"} ${i}.${["pdf", "txt", "csv"][i % 3]}`,
    size: i,
    lastModified: 1_700_000_000_000 + (i % 500) * 1_000,
  }));
  files.push({ key: `reports/${"long-name-".repeat(90)}.pdf`, size: 1, lastModified: 1_700_000_000_000 });
  files.push({ key: "reports/日本語の報告.pdf", size: 2, lastModified: 1_700_000_100_000 });
  const expected = { bucket: "s3://handout-test", roots: [""] };

  const loaded = async (listed: FileIndex): Promise<FileIndex> => {
    const bytes = await encodeSnapshot({ ...expected, listedAt: 0 }, listed.segmentParts());
    const index = new FileIndex({ source: memoryPageSource([]), roots: [""] });
    expect(index.seed((await decodeSnapshot(bytes, expected)).segments)).toBe(true);
    return index;
  };

  it("answers every search as the index it was saved from does", async () => {
    const listed = new FileIndex({ source: memoryPageSource(files), roots: [""], segmentSize: 1_000 });
    await listed.refresh();
    const index = await loaded(listed);
    expect(index.files).toBe(listed.files);
    expect(index.status().segments).toBe(listed.status().segments);
    const queries = [
      "",
      "report 12",
      "résumé",
      "12.pdf",
      "port 1",
      "handbook/report",
      "2025/",
      "報告",
      "zzz",
      "long-name",
    ];
    for (const query of queries) {
      for (const prefixes of [[""], ["reports/"], ["public/handbook/", "ünï/"]]) {
        expect(index.search(query, prefixes, 25), `${query} in ${prefixes}`).toEqual(
          listed.search(query, prefixes, 25),
        );
      }
    }
    const long = `reports/${"long-name-".repeat(90)}`;
    expect([...index.keysStartingWith(long)]).toEqual([...listed.keysStartingWith(long)]);
    expect([...index.keysStartingWith(long)]).toHaveLength(1);
    expect([...index.entries()]).toEqual([...listed.entries()]);
  });

  it("lets other work run between its segments while it encodes, as Slack's requests must", async () => {
    const listed = new FileIndex({ source: memoryPageSource(files), roots: [""], segmentSize: 1_000 });
    await listed.refresh();
    const parts = listed.segmentParts();
    expect(parts.length).toBeGreaterThan(2);
    // Counts turns of the event loop, without a clock: each turn schedules the next.
    let turns = 0;
    let counting = true;
    const turn = () => {
      turns += 1;
      if (counting) setImmediate(turn);
    };
    setImmediate(turn);
    let encodedAfter = -1;
    const bytes = await encodeSnapshot({ ...expected, listedAt: 0 }, parts).then((encoded) => {
      encodedAfter = turns;
      return encoded;
    });
    counting = false;
    // A turn of the event loop came between the start and the end: an encoder that ran in one stretch
    // would have finished before any other work ran.
    expect(encodedAfter).toBeGreaterThan(0);
    expect((await decodeSnapshot(bytes, expected)).header.count).toBe(files.length);
  });

  it("keeps a file found gone before the save gone after the load", async () => {
    const listed = new FileIndex({ source: memoryPageSource(files), roots: [""], segmentSize: 1_000 });
    await listed.refresh();
    listed.fileGone("reports/report 4.txt");
    const index = await loaded(listed);
    expect(index.search("report 4.txt", [""], 10).files.map((file) => file.key)).not.toContain(
      "reports/report 4.txt",
    );
    expect(index.files).toBe(files.length - 1);
    expect([...index.keysStartingWith("reports/report 4.txt")]).toEqual([]);
  });
});
