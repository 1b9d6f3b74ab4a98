import type { Logger } from "../logger.js";
import type { FileIndex } from "../search/file-index.js";
import { decodeSnapshot, SnapshotRejected, type SnapshotStore, snapshotBody } from "../search/snapshot.js";

/**
 * Loads the snapshot into an index that has not listed yet, so that its first searches are complete.
 * A missing, unreadable, damaged, old or foreign snapshot is logged and skipped: the listing that
 * follows builds the index as if there were none. Resolves true when the index serves the snapshot.
 */
export async function restoreIndex(
  index: FileIndex,
  store: SnapshotStore,
  expected: { bucket: string; roots: readonly string[] },
  logger: Pick<Logger, "info" | "warn">,
): Promise<boolean> {
  const startedAt = Date.now();
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.read();
  } catch (error) {
    logger.warn(
      { err: error, snapshot: store.description },
      "could not read the index snapshot; listing the bucket instead",
    );
    return false;
  }
  if (bytes === undefined) {
    logger.info({ snapshot: store.description }, "no index snapshot yet; listing the bucket");
    return false;
  }
  try {
    const snapshot = await decodeSnapshot(bytes, expected);
    if (!index.seed(snapshot.segments)) return false;
    logger.info(
      {
        snapshot: store.description,
        files: index.files,
        listedAt: new Date(snapshot.header.listedAt).toISOString(),
        ms: Date.now() - startedAt,
      },
      "file index loaded from its snapshot; a fresh listing catches up in the background",
    );
    return true;
  } catch (error) {
    if (!(error instanceof SnapshotRejected)) throw error;
    logger.warn(
      { snapshot: store.description, reason: error.message },
      `index snapshot ignored: ${error.message}; listing the bucket instead`,
    );
    return false;
  }
}

/** Saves the index after each complete listing, one save at a time; a failed save is logged, never thrown. */
export function snapshotSaver(
  index: FileIndex,
  store: SnapshotStore,
  bucket: string,
  logger: Pick<Logger, "info" | "warn">,
  now: () => Date,
): { save(roots: readonly string[]): void; idle(): Promise<void> } {
  let last: Promise<void> = Promise.resolve();
  return {
    save(roots) {
      const listedAt = now().getTime();
      last = last.then(async () => {
        try {
          const body = await snapshotBody({ bucket, roots, listedAt }, index.segmentParts());
          await store.write(body);
          logger.info({ snapshot: store.description, bytes: body.byteLength }, "index snapshot saved");
        } catch (error) {
          logger.warn(
            { err: error, snapshot: store.description },
            "could not save the index snapshot; the next process to start lists the bucket",
          );
        }
      });
    },
    idle: () => last,
  };
}
