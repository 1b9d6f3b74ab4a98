import {
  AccessDeniedException,
  CloudFrontKeyValueStoreClient,
  ConflictException,
  DeleteKeyCommand,
  DescribeKeyValueStoreCommand,
  ListKeysCommand,
  PutKeyCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudfront-keyvaluestore";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { isHandoutError } from "../../src/domain/errors.js";
import { keyValueStoreRevocationList } from "../../src/links/revocation-store.js";

const ARN = "arn:aws:cloudfront::123456789012:key-value-store/0123abcd-0123-abcd-0123-0123456789ab";
const kvs = mockClient(CloudFrontKeyValueStoreClient);
const meta = { $metadata: {} };
const conflict = () => new ConflictException({ message: "Pre-condition failed", ...meta });

const list = () =>
  keyValueStoreRevocationList({
    client: new CloudFrontKeyValueStoreClient({ region: "us-east-1" }),
    kvsArn: ARN,
    attempts: 3,
  });

/** The store's ETag, which changes with every write, as the real one does. */
const eTags = (...values: string[]) => {
  const describe = kvs.on(DescribeKeyValueStoreCommand);
  for (const value of values) describe.resolvesOnce({ ETag: value, KvsARN: ARN, ItemCount: 0, ...meta });
};

beforeEach(() => {
  kvs.reset();
});
afterAll(() => {
  kvs.restore();
});

describe("KeyValueStore revocation list", () => {
  it("adds a share id with its expiry, under the store's current ETag", async () => {
    eTags("E1");
    kvs.on(PutKeyCommand).resolves({ ETag: "E2", ...meta });
    await list().add("abcDEF_-0123456789abcd", new Date("2030-01-02T03:04:05.000Z"));
    expect(kvs.commandCalls(PutKeyCommand).map((call) => call.args[0].input)).toEqual([
      { KvsARN: ARN, Key: "abcDEF_-0123456789abcd", Value: "2030-01-02T03:04:05.000Z", IfMatch: "E1" },
    ]);
  });

  it("asks for a fresh ETag and tries again when another writer got in first", async () => {
    eTags("E1", "E7");
    kvs
      .on(PutKeyCommand)
      .rejectsOnce(conflict())
      .resolves({ ETag: "E8", ...meta });
    await list().add("id1", new Date("2030-01-01T00:00:00Z"));
    expect(kvs.commandCalls(PutKeyCommand).map((call) => call.args[0].input.IfMatch)).toEqual(["E1", "E7"]);
    expect(kvs.commandCalls(DescribeKeyValueStoreCommand)).toHaveLength(2);
  });

  it("gives up after its attempts, saying what it could not do", async () => {
    eTags("E1", "E2", "E3", "E4");
    kvs.on(PutKeyCommand).rejects(conflict());
    const error = await list()
      .add("id1", new Date("2030-01-01T00:00:00Z"))
      .catch((e: unknown) => e);
    expect(isHandoutError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect(kvs.commandCalls(PutKeyCommand)).toHaveLength(3);
  });

  it("does not retry a refusal that a fresh ETag cannot fix", async () => {
    eTags("E1");
    kvs.on(PutKeyCommand).rejects(new AccessDeniedException({ message: "denied", ...meta }));
    const error = await list()
      .add("id1", new Date("2030-01-01T00:00:00Z"))
      .catch((e: unknown) => e);
    expect(isHandoutError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/allow cloudfront-keyvaluestore:DescribeKeyValueStore, PutKey/);
    expect(kvs.commandCalls(PutKeyCommand)).toHaveLength(1);
  });

  it("removes a share id, and takes an id already gone as removed", async () => {
    eTags("E1", "E2");
    kvs
      .on(DeleteKeyCommand)
      .resolvesOnce({ ETag: "E2", ...meta })
      .rejectsOnce(new ResourceNotFoundException({ message: "key not found", ...meta }));
    await list().remove("id1");
    await list().remove("id1");
    expect(kvs.commandCalls(DeleteKeyCommand).map((call) => call.args[0].input)).toEqual([
      { KvsARN: ARN, Key: "id1", IfMatch: "E1" },
      { KvsARN: ARN, Key: "id1", IfMatch: "E2" },
    ]);
  });

  it("prunes entries whose links have expired, across pages, and keeps the rest", async () => {
    const now = new Date("2030-06-01T12:00:00Z");
    // The second page only for a request that carries the first page's token.
    kvs.on(ListKeysCommand).resolves({
      Items: [
        { Key: "expired-yesterday", Value: "2030-05-31T12:00:00.000Z" },
        { Key: "expires-tomorrow", Value: "2030-06-02T12:00:00.000Z" },
        // Expired a minute ago: kept a little longer, in case CloudFront's clock is behind ours.
        { Key: "just-expired", Value: "2030-06-01T11:59:00.000Z" },
      ],
      NextToken: "page2",
      ...meta,
    });
    kvs.on(ListKeysCommand, { KvsARN: ARN, NextToken: "page2" }).resolves({
      Items: [
        { Key: "expired-last-month", Value: "2030-05-01T00:00:00.000Z" },
        { Key: "someone-elses", Value: "not a time" },
      ],
      ...meta,
    });
    eTags("E1", "E2");
    kvs.on(DeleteKeyCommand).resolves({ ETag: "next", ...meta });

    expect(await list().pruneExpired(now)).toBe(2);
    expect(kvs.commandCalls(ListKeysCommand)).toHaveLength(2);
    expect(kvs.commandCalls(DeleteKeyCommand).map((call) => call.args[0].input)).toEqual([
      { KvsARN: ARN, Key: "expired-yesterday", IfMatch: "E1" },
      { KvsARN: ARN, Key: "expired-last-month", IfMatch: "E2" },
    ]);
  });

  it("says how to sign when the SigV4A signer is missing", async () => {
    kvs
      .on(DescribeKeyValueStoreCommand)
      .rejects(
        new Error(
          "Neither CRT nor JS SigV4a implementation is available. Please load either @aws-sdk/signature-v4-crt or @aws-sdk/signature-v4a.",
        ),
      );
    const error = await list()
      .remove("id1")
      .catch((e: unknown) => e);
    expect(isHandoutError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/install @aws-sdk\/signature-v4a/);
  });
});
