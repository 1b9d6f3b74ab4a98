import {
  type CloudFrontKeyValueStoreClient,
  DeleteKeyCommand,
  DescribeKeyValueStoreCommand,
  PutKeyCommand,
  paginateListKeys,
} from "@aws-sdk/client-cloudfront-keyvaluestore";
// The KeyValueStore API is signed with SigV4A; this registers the SDK's JavaScript implementation.
import "@aws-sdk/signature-v4a";
import { HandoutError } from "../domain/errors.js";
import type { RevocationList } from "../domain/ports.js";

export interface KeyValueStoreRevocationOptions {
  /** Signs with SigV4A, which the import of @aws-sdk/signature-v4a above provides. */
  readonly client: CloudFrontKeyValueStoreClient;
  readonly kvsArn: string;
  /** Writes tried before giving up when other writers keep changing the store's ETag (default 5). */
  readonly attempts?: number;
  /** Entries outlive their link by this much, for clocks that disagree (default 5 minutes). */
  readonly graceMs?: number;
}

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** Another writer changed the store between our DescribeKeyValueStore and our write. */
const isStaleETag = (error: unknown): boolean =>
  (error as Error).name === "ConflictException" || statusOf(error) === 409 || statusOf(error) === 412;

const isMissing = (error: unknown): boolean => (error as Error).name === "ResourceNotFoundException";

/**
 * The revocation list in a CloudFront KeyValueStore, read by cloudfront/revocation.js at the edge. Key:
 * the share id; value: when its link expires (ISO 8601), so that `pruneExpired` knows when the entry
 * has no more work to do. Every write carries the store's current ETag (If-Match), as the API demands,
 * and is retried with a fresh one when another writer got in between.
 */
export function keyValueStoreRevocationList(options: KeyValueStoreRevocationOptions): RevocationList {
  const { client, kvsArn } = options;
  const attempts = options.attempts ?? 5;
  const graceMs = options.graceMs ?? 5 * 60_000;

  const unavailable = (error: unknown, doing: string): HandoutError => {
    const name = (error as Error).name;
    const message = (error as Error).message ?? "";
    const fix = /signature-v4a|signature-v4-crt/i.test(message)
      ? "the KeyValueStore API is signed with SigV4A: install @aws-sdk/signature-v4a and import it once at start-up"
      : name === "AccessDeniedException" || statusOf(error) === 403
        ? "allow cloudfront-keyvaluestore:DescribeKeyValueStore, PutKey, DeleteKey and ListKeys on it"
        : name === "ResourceNotFoundException"
          ? "check the store's ARN"
          : "check the network and credentials";
    return new HandoutError(
      "STORAGE_UNAVAILABLE",
      `Could not ${doing} the revocation list (CloudFront KeyValueStore ${kvsArn}, ${name}): ${fix}.`,
      { cause: error },
    );
  };

  /** Runs `write` with the store's current ETag, again with a fresh one while others race it. */
  async function withETag(doing: string, write: (eTag: string) => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      let eTag: string | undefined;
      try {
        ({ ETag: eTag } = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn })));
      } catch (error) {
        throw unavailable(error, doing);
      }
      try {
        await write(eTag ?? "");
        return;
      } catch (error) {
        if (!isStaleETag(error) || attempt >= attempts) throw unavailable(error, doing);
      }
    }
  }

  async function remove(id: string): Promise<void> {
    await withETag("update", async (eTag) => {
      try {
        await client.send(new DeleteKeyCommand({ KvsARN: kvsArn, Key: id, IfMatch: eTag }));
      } catch (error) {
        // The store answered DescribeKeyValueStore just now, so "not found" is about the key: gone already.
        if (!isMissing(error)) throw error;
      }
    });
  }

  return {
    async add(id, expiresAt) {
      await withETag("update", (eTag) =>
        client.send(
          new PutKeyCommand({ KvsARN: kvsArn, Key: id, Value: expiresAt.toISOString(), IfMatch: eTag }),
        ),
      );
    },
    remove,
    async pruneExpired(now) {
      const expired: string[] = [];
      try {
        for await (const page of paginateListKeys({ client, pageSize: 50 }, { KvsARN: kvsArn })) {
          for (const { Key, Value } of page.Items ?? []) {
            const expiresAt = Date.parse(Value ?? "");
            // A value that is not a time was not written here: leave it for whoever did.
            if (Key && !Number.isNaN(expiresAt) && expiresAt + graceMs <= now.getTime()) expired.push(Key);
          }
        }
      } catch (error) {
        throw unavailable(error, "read");
      }
      // One key at a time: revocations are few, and a key another replica pruned first is skipped.
      for (const id of expired) await remove(id);
      return expired.length;
    },
  };
}
