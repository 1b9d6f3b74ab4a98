import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { SnapshotLocation } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import type { FileCatalog, LinkSigner } from "../domain/ports.js";
import { type SnapshotStore, snapshotBytes } from "../search/snapshot.js";

/** The object's name under the prefix HANDOUT_INDEX_SNAPSHOT gives. */
export const SNAPSHOT_OBJECT = "handout-index.snapshot";

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** The snapshot's object key: `prefix/handout-index.snapshot`. */
export const snapshotObjectKey = (prefix: string): string =>
  prefix === "" ? SNAPSHOT_OBJECT : `${prefix}/${SNAPSHOT_OBJECT}`;

export function s3SnapshotStore(client: S3Client, bucket: string, prefix: string): SnapshotStore {
  const key = snapshotObjectKey(prefix);
  return {
    description: `s3://${bucket}/${key}`,
    async read() {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return answer.Body ? await answer.Body.transformToByteArray() : undefined;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === "NoSuchKey" || statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async write(body) {
      const object = { Bucket: bucket, Key: key };
      if (body.byteLength <= SNAPSHOT_PART_BYTES) {
        // One PutObject: S3 makes it visible all at once, so writers never interleave.
        await client.send(
          new PutObjectCommand({
            ...object,
            Body: await snapshotBytes(body),
            ContentType: "application/octet-stream",
          }),
        );
        return;
      }
      // In parts, so that the snapshot is never whole in memory: the object appears, whole, when the
      // upload completes, and each writer has its own upload. Each part is its own buffer, which the SDK
      // can send again when it retries a failed attempt.
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ ...object, ContentType: "application/octet-stream" }),
      );
      if (!UploadId) throw new Error("S3 began no upload for the snapshot");
      try {
        const parts: CompletedPart[] = [];
        for await (const part of body.chunks(SNAPSHOT_PART_BYTES)) {
          const PartNumber = parts.length + 1;
          const { ETag } = await client.send(
            new UploadPartCommand({
              ...object,
              Body: part,
              UploadId,
              PartNumber,
              ContentLength: part.length,
            }),
          );
          parts.push({ ETag, PartNumber });
        }
        await client.send(
          new CompleteMultipartUploadCommand({ ...object, UploadId, MultipartUpload: { Parts: parts } }),
        );
      } catch (error) {
        // Left incomplete, the parts would be kept (and billed) until the bucket's lifecycle rule ends them.
        await client.send(new AbortMultipartUploadCommand({ ...object, UploadId })).catch(() => {});
        throw error;
      }
    },
  };
}

/** S3 takes parts of at least 5 MiB but the last; a snapshot larger than one part is sent in parts. */
export const SNAPSHOT_PART_BYTES = 8 * 2 ** 20;

/** How old another writer's temporary file must be to count as left behind (a save takes seconds). */
const ABANDONED_AFTER_MS = 60 * 60_000;

/**
 * Removes the temporary files of snapshots that a process stopped while writing (killed between its
 * write and its rename) left beside `path`: those written an hour or more before the snapshot just
 * saved. Both times are the file system's, so no clock of this process is compared with them.
 */
async function removeAbandoned(path: string): Promise<void> {
  const saved = (await stat(path)).mtimeMs;
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const temporary = join(dir, name);
    const written = await stat(temporary).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    if (written !== undefined && saved - written >= ABANDONED_AFTER_MS) await rm(temporary, { force: true });
  }
}

export function fileSnapshotStore(path: string): SnapshotStore {
  return {
    description: path,
    async read() {
      try {
        return await readFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
    async write(body) {
      await mkdir(dirname(path), { recursive: true });
      // Each writer its own temporary file, then one rename: readers see a whole file, old or new.
      const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
      try {
        // Written a piece at a time, so the snapshot is never whole in memory.
        await pipeline(Readable.from(body.chunks(), { objectMode: false }), createWriteStream(temporary));
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      // The snapshot is saved: a folder that cannot be read for leftovers does not undo that.
      await removeAbandoned(path).catch(() => {});
    },
  };
}

/** A test of keys, with a prefix every key it accepts starts with (undefined: it accepts none). */
export interface OwnObjects {
  (key: string): boolean;
  readonly prefix: string | undefined;
}

const own = (prefix: string | undefined, test: (key: string) => boolean): OwnObjects =>
  Object.assign(test, { prefix });
const NONE = own(undefined, () => false);

/**
 * Whether a key in the shared store is one of Handout's own snapshot objects (the snapshot, or a
 * temporary file of one being written). Such keys are never indexed, offered or signed, whatever the
 * policy grants: the lister and the share path both ask this one question.
 */
export function snapshotKeys(
  location: SnapshotLocation | undefined,
  store: { readonly bucket: string } | { readonly localDir: string },
): OwnObjects {
  if (location === undefined) return NONE;
  if (location.kind === "s3") {
    if (!("bucket" in store) || store.bucket !== location.bucket) return NONE;
    // The whole folder is Handout's: nothing in it is a file to share.
    if (location.prefix === "") return own(SNAPSHOT_OBJECT, (key) => key === SNAPSHOT_OBJECT);
    const folder = `${location.prefix}/`;
    return own(folder, (key) => key.startsWith(folder));
  }
  if (!("localDir" in store)) return NONE;
  const inside = relative(resolve(store.localDir), resolve(location.path));
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) return NONE;
  const key = inside.split(sep).join("/");
  return own(
    key,
    (candidate) => candidate === key || (candidate.startsWith(`${key}.`) && candidate.endsWith(".tmp")),
  );
}

const ownObject = (key: string) =>
  new HandoutError(
    "ACCESS_DENIED",
    `${JSON.stringify(key)} is Handout's own index snapshot, not a file to share, whatever the policy grants.`,
  );

/**
 * The catalog and the signer with Handout's own objects taken out: a share or a signature of one is
 * refused before any link is made. The index leaves them out with the same predicate (`hides`).
 */
export function hideOwnObjects(
  parts: { catalog: FileCatalog; signer: LinkSigner },
  isOwn: (key: string) => boolean,
): { catalog: FileCatalog; signer: LinkSigner } {
  return {
    catalog: {
      stat(key) {
        if (isOwn(key)) return Promise.reject(ownObject(key));
        return parts.catalog.stat(key);
      },
    },
    signer: {
      sign(key, validity) {
        if (isOwn(key)) throw ownObject(key);
        return parts.signer.sign(key, validity);
      },
    },
  };
}
