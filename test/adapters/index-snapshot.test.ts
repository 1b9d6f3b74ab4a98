import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHandout, type Handout } from "../../src/app/server.js";
import { SNAPSHOT_PART_BYTES, s3SnapshotStore } from "../../src/files/snapshot-store.js";
import { Segment } from "../../src/search/file-index.js";
import { decodeSnapshot, encodeSnapshot, snapshotBody, snapshotBytes } from "../../src/search/snapshot.js";
import { KeyRefs } from "../../src/slack/key-refs.js";
import { makeKeyPair } from "../support/keys.js";
import { captureLogs } from "../support/log.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { entriesOf, partsOf } from "../support/snapshot.js";
import { tempFolder } from "../support/temp.js";

/** A key too long to travel as an option value, in folders s3rver can store. */
const LONG_KEY = `reports/${"a-long-folder-name-".repeat(6)}/${"and-another-one-".repeat(6)}/final.pdf`;
const FILES = [
  "reports/q1 2026.pdf",
  "reports/2026/q2.pdf",
  "public/handbook.pdf",
  LONG_KEY,
  // s3rver's delimited listing skips a folder that holds only folders (S3's does not): give it a file.
  `${LONG_KEY.split("/").slice(0, 2).join("/")}/readme.txt`,
];
const SNAPSHOT_KEY = "handout-state/handout-index.snapshot";

let bucket: TestBucket;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  bucket = await startTestBucket();
  await Promise.all(FILES.map((key) => bucket.put(key)));
  // The AWS SDK reads its endpoint and credentials from the process environment.
  Object.assign(process.env, bucket.env);
  const dir = await tempFolder("snapshot");
  const pair = makeKeyPair();
  await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
  // A rule over the whole bucket: the snapshot's own folder lies inside what it grants.
  await writeFile(join(dir, "access.yml"), "rules:\n  - who: { everyone: true }\n    whole_bucket: true\n");
  env = {
    ...bucket.env,
    PORT: "0",
    CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
    CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
    CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
    HANDOUT_POLICY_FILE: join(dir, "access.yml"),
    HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
    HANDOUT_INDEX_SNAPSHOT: `s3://${bucket.name}/handout-state`,
  };
});

afterAll(async () => {
  await bucket?.stop();
});

const searchKeys = (handout: Handout, query: string) =>
  handout.index.search(query, [""], 100).files.map((file) => file.key);

/** A process that lists the bucket completely, saves its snapshot, and stops. */
async function listAndSave(): Promise<void> {
  const handout = await buildHandout(env, captureLogs().logger);
  await handout.indexReady;
  await handout.index.refresh();
  // Closing waits for the snapshot's save.
  await handout.close();
}

async function putSnapshot(bytes: Uint8Array): Promise<void> {
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: SNAPSHOT_KEY, Body: bytes }));
}

describe("a replica started on an index snapshot", () => {
  it("answers a search for a key it has not listed, complete, before its own listing ends", async () => {
    await listAndSave();
    await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: "reports/2026/q2.pdf" }));
    const logs = captureLogs();
    const replica = await buildHandout(env, logs.logger);
    try {
      await replica.indexReady;
      const answer = replica.index.search("q2", [""], 100);
      expect(answer.files.map((file) => file.key)).toEqual(["reports/2026/q2.pdf"]);
      expect(answer.partial).toBe(false);
      expect(logs.text()).toContain("file index loaded from its snapshot");
      // Then it catches up with the bucket as it is.
      await replica.index.refresh();
      expect(searchKeys(replica, "q2")).toEqual([]);
    } finally {
      await replica.close();
      await bucket.put("reports/2026/q2.pdf");
    }
  });

  it("left to catch up when asked (as on AWS Lambda), lists nothing until then, unless it has no snapshot", async () => {
    await listAndSave();
    await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: "reports/2026/q2.pdf" }));
    const replica = await buildHandout(env, captureLogs().logger, { listAfterSnapshotWhenAsked: true });
    try {
      await replica.indexReady;
      expect(replica.index.status()).toMatchObject({ complete: true, building: false });
      expect(replica.index.status().lastBuild).toBeUndefined();
      expect(searchKeys(replica, "q2")).toEqual(["reports/2026/q2.pdf"]);
      replica.startListing();
      expect(replica.index.status().building).toBe(true);
      await replica.index.refresh();
      expect(searchKeys(replica, "q2")).toEqual([]);
    } finally {
      await replica.close();
      await bucket.put("reports/2026/q2.pdf");
    }

    await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: SNAPSHOT_KEY }));
    const first = await buildHandout(env, captureLogs().logger, { listAfterSnapshotWhenAsked: true });
    try {
      await first.indexReady;
      // Nothing to search until a listing: it is under way without being asked for.
      expect(first.index.status().building).toBe(true);
    } finally {
      await first.close();
    }
  });

  it("resolves a long key's option value from its first request", async () => {
    await listAndSave();
    const value = new KeyRefs().toValue(LONG_KEY);
    expect(value.startsWith("p:")).toBe(true);
    const fresh = await buildHandout(env, captureLogs().logger);
    try {
      await fresh.indexReady;
      expect(fresh.index.status().complete).toBe(true);
      expect(new KeyRefs(fresh.index).fromValue(value)).toBe(LONG_KEY);
    } finally {
      await fresh.close();
    }
  });
});

describe("Handout's own snapshot object", () => {
  it("is never offered, shared or signed, even under a rule over the whole bucket", async () => {
    await listAndSave();
    const saved = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: SNAPSHOT_KEY }));
    expect((await saved.Body?.transformToByteArray())?.length).toBeGreaterThan(0);
    const handout = await buildHandout(env, captureLogs().logger);
    try {
      await handout.indexReady;
      await handout.index.refresh();
      expect(searchKeys(handout, "snapshot")).toEqual([]);
      expect(searchKeys(handout, "")).not.toContain(SNAPSHOT_KEY);
      expect(handout.index.status().files).toBe(FILES.length);
      await expect(handout.storage.catalog.stat(SNAPSHOT_KEY)).rejects.toThrow(/own index snapshot/);
      expect(() =>
        handout.storage.signer.sign(SNAPSHOT_KEY, { expiresAt: new Date(Date.now() + 3_600_000) }),
      ).toThrow(/own index snapshot/);
      // The files beside it are still shared and signed as the policy says.
      expect(await handout.storage.catalog.stat("public/handbook.pdf")).toMatchObject({ size: 31 });
    } finally {
      await handout.close();
    }
  });
});

describe("an unusable snapshot", () => {
  it("is ignored with a log line when damaged, and the bucket is listed instead", async () => {
    await listAndSave();
    const saved = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: SNAPSHOT_KEY }));
    const bytes = Buffer.from((await saved.Body?.transformToByteArray()) as Uint8Array);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0x55;
    await putSnapshot(bytes);
    const logs = captureLogs();
    const handout = await buildHandout(env, logs.logger);
    try {
      await handout.indexReady;
      expect(handout.index.status().complete).toBe(false);
      const warning = logs.lines().find((line) => String(line.msg).startsWith("index snapshot ignored"));
      expect(warning?.msg).toMatch(/checksum does not match/);
      await handout.index.refresh();
      expect(searchKeys(handout, "q1")).toEqual(["reports/q1 2026.pdf"]);
    } finally {
      await handout.close();
    }
  });

  it("is ignored with a log line when it is of another bucket", async () => {
    await putSnapshot(
      await encodeSnapshot(
        { bucket: "s3://another-bucket", roots: [""], listedAt: Date.now() },
        partsOf([{ key: "reports/secret-elsewhere.pdf", size: 1, lastModified: Date.now() }]),
      ),
    );
    const logs = captureLogs();
    const handout = await buildHandout(env, logs.logger);
    try {
      await handout.indexReady;
      const warning = logs.lines().find((line) => String(line.msg).startsWith("index snapshot ignored"));
      expect(warning?.msg).toMatch(/of s3:\/\/another-bucket, not s3:\/\/handout-test/);
      await handout.index.refresh();
      expect(searchKeys(handout, "secret-elsewhere")).toEqual([]);
      expect(searchKeys(handout, "q1")).toEqual(["reports/q1 2026.pdf"]);
    } finally {
      await handout.close();
    }
  });
});

describe("the snapshot in S3", () => {
  const expected = { bucket: "s3://handout-test", roots: [""] };
  /** An index of three segments, about 15 MB of snapshot: more than one part of an upload. */
  const largeParts = (tag: string) =>
    [0, 1, 2].map((n) =>
      new Segment(
        Array.from({ length: 60_000 }, (_, i) => ({
          key: `${n === 1 ? "年度" : "reports"}/${tag}/${n}/q${i % 4} ${"report ".repeat(i % 5)}${i}.pdf`,
          size: i * 1000,
          lastModified: 1_700_000_000_000 + i,
        })),
      ).parts(),
    );

  it("goes up in parts when it is larger than one, and reads back whole, replacing the last", async () => {
    const store = s3SnapshotStore(bucket.client, bucket.name, "large-state");
    for (const tag of ["first", "second"]) {
      const body = await snapshotBody({ ...expected, listedAt: 0 }, largeParts(tag));
      expect(body.byteLength).toBeGreaterThan(SNAPSHOT_PART_BYTES);
      await store.write(body);
      const read = Buffer.from((await store.read()) as Uint8Array);
      expect(read.equals(await snapshotBytes(body))).toBe(true);
      const loaded = await decodeSnapshot(read, expected);
      expect(loaded.header.count).toBe(180_000);
      expect(entriesOf(loaded)[0]?.key).toContain(`/${tag}/`);
    }
  });

  it("abandons its upload when a part fails, and fails the save, completing nothing", async () => {
    const client = new S3Client({ region: "us-east-1" });
    const s3 = mockClient(client);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "upload-1" });
    s3.on(UploadPartCommand, { PartNumber: 1 }).resolves({ ETag: '"part-1"' });
    s3.on(UploadPartCommand, { PartNumber: 2 }).rejects(new Error("connection reset"));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const store = s3SnapshotStore(client, "handout-test", "state");
    const body = await snapshotBody({ ...expected, listedAt: 0 }, largeParts("failing"));
    await expect(store.write(body)).rejects.toThrow("connection reset");
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(2);
    expect(s3.commandCalls(UploadPartCommand)[0]?.args[0].input.Body).toHaveLength(SNAPSHOT_PART_BYTES);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: "handout-test",
      Key: "state/handout-index.snapshot",
      UploadId: "upload-1",
    });
  });
});
