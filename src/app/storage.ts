import { isAbsolute, relative, resolve } from "node:path";
import { cliCommand } from "../config/cli-command.js";
import type { BucketStorageSettings, Config } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import type { FileCatalog, LinkSigner } from "../domain/ports.js";
import { ensureSampleFiles, localFileCatalog, localPageSource } from "../files/local-store.js";
import { s3FileCatalog } from "../files/s3-catalog.js";
import { s3PageSource } from "../files/s3-pages.js";
import {
  fileSnapshotStore,
  hideOwnObjects,
  type OwnObjects,
  s3SnapshotStore,
  snapshotKeys,
} from "../files/snapshot-store.js";
import { createLinkHandler, type LinkHandler } from "../links/link-server.js";
import type { Logger } from "../logger.js";
import type { PageSource } from "../search/lister.js";
import type { SnapshotStore } from "../search/snapshot.js";
import { fileKeySource } from "../signing/key-sources.js";
import { ensureLocalKeyPair, type LocalKeyPair, readLocalKeyPair } from "../signing/local-keys.js";
import { createS3Client } from "./clients.js";
import { cloudFrontKey, startSigner } from "./wiring.js";

/** The files: the bucket, or the local folder in the embedded default. */
export interface FileStore {
  readonly catalog: FileCatalog;
  readonly pages: PageSource;
  /** For people: "the bucket …" or "the folder …". */
  readonly where: string;
  close(): void;
}

/** Where the files are, how links to them are signed, and (embedded) who serves those links. */
export interface Storage extends FileStore {
  readonly signer: LinkSigner;
  /** Serves signed links itself: the embedded default only. */
  readonly links: LinkHandler | undefined;
  /** For people: where the files are and where links point. */
  readonly description: string;
  /** The store's identity in an index snapshot: `s3://bucket`, or `file:///folder`. */
  readonly identity: string;
  /** Where the index snapshot is kept (HANDOUT_INDEX_SNAPSHOT), when it is. */
  readonly snapshots: SnapshotStore | undefined;
  /** Handout's own objects in the store (its snapshot): never indexed, offered or signed. */
  readonly isOwnObject: OwnObjects;
}

/** The files alone, for a command that lists or checks them and signs nothing (`index stats`). */
export function openFileStore(storage: BucketStorageSettings): FileStore {
  if (storage.mode === "local") {
    return {
      catalog: localFileCatalog(storage.dir),
      pages: localPageSource(storage.dir),
      where: `the folder ${storage.dir}`,
      close: () => {},
    };
  }
  const { name } = storage.bucket;
  const s3 = createS3Client(storage.bucket);
  return {
    catalog: s3FileCatalog(s3, name),
    pages: s3PageSource(s3, name),
    where: `the bucket ${name}`,
    close: () => s3.destroy(),
  };
}

/** The served folder must not hold Handout's own secrets, unless hidden (dot-folders are never served). */
function assertNotServed(dir: string, path: string, what: string): void {
  const inside = relative(resolve(dir), resolve(path));
  const served = inside !== "" && !inside.startsWith("..") && !isAbsolute(inside) && !inside.startsWith(".");
  if (inside === "" || served) {
    throw new HandoutError(
      "CONFIG_INVALID",
      `${what} is inside HANDOUT_LOCAL_DIR (${dir}), whose files anyone may be sent links to: move it out of that folder.`,
    );
  }
}

/** A folder Handout must write, for the setting that names it; the system's error becomes the fix. */
async function writing<T>(setting: string, dir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !/^(EACCES|EPERM|EROFS|ENOTDIR|EEXIST|ENOSPC)$/.test(code)) throw error;
    const why =
      code === "ENOTDIR" || code === "EEXIST"
        ? "a file stands where a folder should be"
        : code === "ENOSPC"
          ? "the disk is full"
          : "permission denied";
    throw new HandoutError(
      "CONFIG_INVALID",
      `${setting} is ${resolve(dir)}, which Handout cannot write (${code}: ${why}): let the user Handout runs as write there, or set ${setting} to a folder it may write.`,
      { cause: error },
    );
  }
}

/** The key pair the server made, for a command that must sign with it and never make another. */
async function existingKeyPair(stateDir: string): Promise<LocalKeyPair> {
  const found = await readLocalKeyPair(stateDir);
  if (found) return found;
  throw new HandoutError(
    "CONFIG_INVALID",
    `There is no signing key in ${resolve(stateDir)} (HANDOUT_STATE_DIR): Handout makes its key there on its first start (npm start), in the folder it runs from, and refuses links signed with any other. Run this command from the folder Handout runs in, or set HANDOUT_STATE_DIR (and HANDOUT_LOCAL_DIR) to the folders it uses.`,
  );
}

/**
 * S3 behind CloudFront, or — with neither configured — a local folder that Handout serves itself, with
 * a key pair it makes on first run, so that it can be tried with nothing but Node.
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  options: {
    isRevoked?: (shareId: string) => Promise<boolean>;
    now?: () => Date;
    /** Create nothing, and sign only with the key pair already there: for commands beside the server. */
    existingOnly?: boolean;
  } = {},
): Promise<Storage> {
  const settings = config.storage;
  const snapshot = config.indexSnapshot;
  if (settings.mode === "local") {
    const { dir, stateDir, scheme, host } = settings;
    assertNotServed(dir, stateDir, "HANDOUT_STATE_DIR (it holds the signing key)");
    if (config.ledger.kind === "sqlite") assertNotServed(dir, config.ledger.path, "HANDOUT_LEDGER's file");
    if (
      !options.existingOnly &&
      (await writing("HANDOUT_LOCAL_DIR", dir, () => ensureSampleFiles(dir, cliCommand())))
    )
      logger.info({ dir }, "created a folder of sample files to share");
    const keyPair = options.existingOnly
      ? await existingKeyPair(stateDir)
      : await writing("HANDOUT_STATE_DIR", stateDir, () => ensureLocalKeyPair(stateDir));
    if (keyPair.created)
      logger.info({ keyPairId: keyPair.keyPairId, dir: stateDir }, "created a signing key pair");
    const signer = await startSigner(
      { source: fileKeySource(keyPair.privateKeyPath), keyPairId: keyPair.keyPairId, domain: host, scheme },
      config.signature,
      logger,
    );
    const isOwnObject = snapshotKeys(snapshot, { localDir: dir });
    const files = openFileStore(settings);
    return {
      ...files,
      ...hideOwnObjects({ catalog: files.catalog, signer }, isOwnObject),
      identity: `file://${resolve(dir)}`,
      snapshots: snapshot?.kind === "file" ? fileSnapshotStore(snapshot.path) : undefined,
      isOwnObject,
      links: createLinkHandler({
        root: dir,
        publicKeys: new Map([[keyPair.keyPairId, keyPair.publicKey]]),
        domain: host,
        scheme,
        logger,
        ...(options.now ? { now: options.now } : {}),
        ...(options.isRevoked ? { isRevoked: options.isRevoked } : {}),
      }),
      description: `the local folder ${dir}, with links served at ${scheme}://${host}/`,
    };
  }
  const { bucket, signing } = settings;
  const signer = await startSigner(cloudFrontKey(signing), config.signature, logger);
  const s3 = createS3Client(bucket);
  const isOwnObject = snapshotKeys(snapshot, { bucket: bucket.name });
  return {
    ...hideOwnObjects({ catalog: s3FileCatalog(s3, bucket.name), signer }, isOwnObject),
    pages: s3PageSource(s3, bucket.name),
    where: `the bucket ${bucket.name}`,
    identity: `s3://${bucket.name}`,
    snapshots:
      snapshot === undefined
        ? undefined
        : snapshot.kind === "s3"
          ? s3SnapshotStore(s3, snapshot.bucket, snapshot.prefix)
          : fileSnapshotStore(snapshot.path),
    isOwnObject,
    links: undefined,
    description: `s3://${bucket.name}, with links through https://${signing.domain}/`,
    close: () => s3.destroy(),
  };
}
