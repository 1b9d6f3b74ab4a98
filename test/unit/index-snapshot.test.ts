import { describe, expect, it } from "vitest";
import { decodeSnapshot, encodeSnapshot, SnapshotRejected } from "../../src/search/snapshot.js";

const OBJECTS = [
  { key: "reports/q1 2026.pdf", size: 1200, lastModified: 1_700_000_000_000 },
  { key: "reports/ünïcode/naïve café.txt", size: 0, lastModified: 1_700_000_500_000 },
  { key: "public/handbook/handbook.pdf", size: 5_000_000_000, lastModified: 1_600_000_000_000 },
];
const THIS = { bucket: "s3://handout-test", roots: ["public/handbook/", "reports/"] };

const encoded = () => encodeSnapshot({ ...THIS, listedAt: 1_700_000_600_000 }, OBJECTS);

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
    expect(snapshot.objects).toEqual(OBJECTS);
    expect(snapshot.header).toEqual({ ...THIS, listedAt: 1_700_000_600_000, count: 3 });
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

  it("refuses a snapshot of another format version", async () => {
    const bytes = await encoded();
    bytes.writeUInt32BE(2, 8);
    expect(await rejection(bytes)).toMatch(/format version 2/);
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
