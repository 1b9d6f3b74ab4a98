import { constants, type Dirent } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, realpath, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { HandoutError } from "../domain/errors.js";
import { keyProblem, MAX_KEY_BYTES } from "../domain/object-key.js";
import type { FileCatalog, FileInfo } from "../domain/ports.js";
import type { ListedObject, ListPage, ListRequest, PageSource } from "../search/lister.js";

/*
 * A folder on disk served as if it were a bucket. A key is a path below the folder with `/`
 * separators. Names starting with `.` are never keys (the `.handout/` folder keeps the signing key).
 * Symbolic links are never followed, to files or folders: S3 has no links, and a link would let a
 * file be shared under a key the policy judges apart from the file it leads to.
 */

const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG"]);
const isMissing = (error: unknown): boolean => MISSING.has((error as NodeJS.ErrnoException).code ?? "");

const unreadable = (path: string, error: unknown): HandoutError =>
  new HandoutError(
    "STORAGE_UNAVAILABLE",
    `Could not read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}): check that Handout may read the files folder.`,
    { cause: error },
  );

/** Runs a file-system call; a path that is not there (or not a folder on the way) reads as undefined. */
async function unlessMissing<T>(path: string, action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw unreadable(path, error);
  }
}

const CONTROL = /\p{Cc}/u;

/** A name that may be part of a key: visible, and a valid path segment. */
const isKeySegment = (name: string): boolean => name !== "" && !name.startsWith(".") && !CONTROL.test(name);

/**
 * The real path of the file a key names, or undefined when the key names nothing that may be served:
 * an invalid or hidden key, or a path with a symlink anywhere below the root.
 */
async function resolveLocalFile(root: string, key: string): Promise<string | undefined> {
  if (keyProblem(key) !== undefined) return undefined;
  const segments = key.split("/");
  if (!segments.every(isKeySegment)) return undefined;
  const realRoot = await unlessMissing(root, () => realpath(root));
  if (realRoot === undefined) return undefined;
  const parent = join(realRoot, ...segments.slice(0, -1));
  // A folder whose real path differs was reached through a symlink.
  if ((await unlessMissing(parent, () => realpath(parent))) !== parent) return undefined;
  const target = join(parent, segments[segments.length - 1] as string);
  // The parent is real, so a target whose real path differs is itself a symlink.
  if ((await unlessMissing(target, () => realpath(target))) !== target) return undefined;
  return target;
}

export interface OpenedLocalFile {
  readonly handle: FileHandle;
  readonly size: number;
  readonly lastModified: Date;
}

/** Opens the file a key names for reading; the caller closes the handle. */
export async function openLocalFile(root: string, key: string): Promise<OpenedLocalFile | undefined> {
  const path = await resolveLocalFile(root, key);
  if (path === undefined) return undefined;
  // The resolved path has no symlink left: O_NOFOLLOW refuses one swapped in since.
  const handle = await unlessMissing(path, () =>
    open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)),
  );
  if (handle === undefined) return undefined;
  try {
    const facts = await handle.stat();
    if (!facts.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, size: facts.size, lastModified: facts.mtime };
  } catch (error) {
    await handle.close();
    throw unreadable(path, error);
  }
}

/** The folder as a FileCatalog: what `head` on the bucket would say. */
export function localFileCatalog(root: string): FileCatalog {
  const base = resolve(root);
  return {
    async stat(key): Promise<FileInfo | undefined> {
      const path = await resolveLocalFile(base, key);
      if (path === undefined) return undefined;
      const facts = await unlessMissing(path, () => lstat(path));
      if (facts === undefined || !facts.isFile()) return undefined;
      return { key, size: facts.size, lastModified: facts.mtime };
    },
  };
}

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

interface Child {
  readonly path: string;
  /** The key (file) or folder prefix ending in `/` (folder) this entry stands for. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly folder: boolean;
}

/**
 * Where a listing resumes: after `after`, and, when it names a folder already returned, past every key
 * inside it too.
 */
interface Cursor {
  readonly after: Buffer;
  readonly afterText: string;
  readonly pastFolder: boolean;
}

/** Whether a folder's keys (all starting with `prefix`) come after the cursor: all, none or some. */
function blockAfter(prefix: Child, cursor: Cursor | undefined): "all" | "none" | "some" {
  if (cursor === undefined) return "all";
  if (cursor.pastFolder && prefix.name.startsWith(cursor.afterText)) return "none";
  if (cursor.afterText.startsWith(prefix.name)) return "some";
  return Buffer.compare(prefix.bytes, cursor.after) < 0 ? "none" : "all";
}

const keyAfter = (child: Child, cursor: Cursor | undefined): boolean =>
  cursor === undefined ||
  (Buffer.compare(child.bytes, cursor.after) > 0 &&
    !(cursor.pastFolder && child.name.startsWith(cursor.afterText)));

/**
 * A folder's visible entries in S3's key order. Each child's keys form one run in that order, sorted
 * by the child's name in UTF-8 bytes, a folder's name with its `/`: every key below folder `a` starts
 * with `a/`, and no sibling's name can fall inside that run. So walking children in this order yields
 * every key in order without sorting the whole tree.
 */
async function children(dirPath: string, keyPrefix: string, namePrefix: string): Promise<Child[]> {
  const entries = await unlessMissing(dirPath, () =>
    readdir(dirPath, { withFileTypes: true, encoding: "buffer" }),
  );
  const result: Child[] = [];
  for (const entry of (entries ?? []) as Dirent<Buffer>[]) {
    const name = entry.name.toString("utf8");
    // A name that is not valid UTF-8 cannot be written as a key.
    if (!utf8(name).equals(entry.name) || !isKeySegment(name) || !name.startsWith(namePrefix)) continue;
    // Entries are not followed: a symlink is neither a folder nor a file here, and is left out.
    const folder = entry.isDirectory();
    if (!folder && !entry.isFile()) continue;
    const full = `${keyPrefix}${name}${folder ? "/" : ""}`;
    result.push({
      path: join(dirPath, name),
      name: full,
      bytes: utf8(full),
      folder,
    });
  }
  return result.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
}

interface Candidate {
  readonly key: string;
  readonly path: string;
}

interface Walk {
  readonly signal: AbortSignal | undefined;
}

/** A file entry that may be listed: one whose key is not too long. */
const candidate = (child: Child): Candidate | undefined =>
  child.bytes.length > MAX_KEY_BYTES ? undefined : { key: child.name, path: child.path };

/** Every listable file below a folder, in key order, after the cursor. */
async function* filesUnder(
  walk: Walk,
  dirPath: string,
  keyPrefix: string,
  namePrefix: string,
  cursor: Cursor | undefined,
): AsyncGenerator<Candidate> {
  walk.signal?.throwIfAborted();
  for (const child of await children(dirPath, keyPrefix, namePrefix)) {
    if (child.folder) {
      const block = blockAfter(child, cursor);
      if (block === "none") continue;
      yield* filesUnder(walk, child.path, child.name, "", block === "all" ? undefined : cursor);
    } else if (keyAfter(child, cursor)) {
      const file = candidate(child);
      if (file) yield file;
    }
  }
}

type Entry =
  | { readonly kind: "file"; readonly file: Candidate }
  | { readonly kind: "folder"; readonly name: string };

/** With a delimiter: the files directly in the folder, and each sub-folder holding a listable file after the cursor. */
async function* delimitedEntries(
  walk: Walk,
  dirPath: string,
  keyPrefix: string,
  namePrefix: string,
  cursor: Cursor | undefined,
): AsyncGenerator<Entry> {
  for (const child of await children(dirPath, keyPrefix, namePrefix)) {
    walk.signal?.throwIfAborted();
    if (child.folder) {
      const block = blockAfter(child, cursor);
      if (block === "none") continue;
      // S3 names a common prefix only when a key lies under it: an empty folder is no folder.
      const first = await filesUnder(
        walk,
        child.path,
        child.name,
        "",
        block === "all" ? undefined : cursor,
      ).next();
      if (!first.done) yield { kind: "folder", name: child.name };
    } else if (keyAfter(child, cursor)) {
      const file = candidate(child);
      if (file) yield { kind: "file", file };
    }
  }
}

async function* undelimitedEntries(...args: Parameters<typeof filesUnder>): AsyncGenerator<Entry> {
  for await (const file of filesUnder(...args)) yield { kind: "file", file };
}

/** The folder below the root that a prefix's folder part names; undefined when hidden, invalid or symlinked. */
async function prefixFolder(root: string, folderKey: string): Promise<string | undefined> {
  const segments = folderKey === "" ? [] : folderKey.slice(0, -1).split("/");
  if (!segments.every(isKeySegment)) return undefined;
  const realRoot = await unlessMissing(root, () => realpath(root));
  if (realRoot === undefined) return undefined;
  const path = join(realRoot, ...segments);
  if (segments.length > 0 && (await unlessMissing(path, () => realpath(path))) !== path) return undefined;
  return path;
}

function cursorOf(request: ListRequest): Cursor | undefined {
  const token = request.continuationToken;
  if (token) {
    const kind = token[0];
    if (kind !== "K" && kind !== "F") {
      throw new HandoutError("INPUT_INVALID", "The continuation token was not made by this folder listing.");
    }
    const afterText = token.slice(1);
    return { after: utf8(afterText), afterText, pastFolder: kind === "F" };
  }
  if (request.startAfter === undefined || request.startAfter === "") return undefined;
  return { after: utf8(request.startAfter), afterText: request.startAfter, pastFolder: false };
}

/**
 * The folder listed like ListObjectsV2: keys in UTF-8 byte order (S3's, not JavaScript's UTF-16
 * order), up to `pageSize` entries a page (folders included), delimited folders, continuation tokens
 * and startAfter. A token is the last entry returned, marked as a folder (F) or a key (K); a page costs
 * a walk of the tree from where it resumes, not a listing of the whole folder.
 */
export function localPageSource(root: string, pageSize = 1000): PageSource {
  const base = resolve(root);
  return {
    async listPage(request, signal): Promise<ListPage> {
      signal?.throwIfAborted();
      const cursor = cursorOf(request);
      const split = request.prefix.lastIndexOf("/") + 1;
      const folderKey = request.prefix.slice(0, split);
      const namePrefix = request.prefix.slice(split);
      const folder = await prefixFolder(base, folderKey);
      if (folder === undefined) return { objects: [], folders: [], continuationToken: undefined };
      const walk: Walk = { signal };
      const entries = (request.delimited ? delimitedEntries : undelimitedEntries)(
        walk,
        folder,
        folderKey,
        namePrefix,
        cursor,
      );
      const taken: Entry[] = [];
      let more = false;
      for await (const entry of entries) {
        if (taken.length === pageSize) {
          more = true;
          break;
        }
        taken.push(entry);
      }
      const files = taken.flatMap((entry) => (entry.kind === "file" ? [entry.file] : []));
      const facts = await Promise.all(files.map((file) => unlessMissing(file.path, () => lstat(file.path))));
      const objects: ListedObject[] = [];
      files.forEach((file, i) => {
        const found = facts[i];
        // A file removed since the walk saw it is simply left out.
        if (found?.isFile()) objects.push({ key: file.key, size: found.size, lastModified: found.mtimeMs });
      });
      const last = taken[taken.length - 1];
      return {
        objects,
        folders: taken.flatMap((entry) => (entry.kind === "folder" ? [entry.name] : [])),
        continuationToken:
          more && last ? (last.kind === "folder" ? `F${last.name}` : `K${last.file.key}`) : undefined,
      };
    },
  };
}

const sampleFiles = (cli: string): Record<string, string> => ({
  "welcome.txt": `Welcome to Handout.

This folder is Handout's bucket while no S3 bucket is configured (HANDOUT_BUCKET).
Put files here, in folders if you like, and share them from Slack with /share,
or from the command line with: ${cli} sign welcome.txt --expires 1h

Files and folders whose names start with a dot are never shared.
`,
  "reports/2026/q1 summary.txt": `Q1 2026 summary (a sample file)

Revenue: up 12%
Costs: flat
Next steps: keep going.
`,
  "handbook/Café menu.txt": `Café menu (a sample file, with a space and an accent in its name)

Espresso ........ 2.50
Croissant ....... 3.00
Crème brûlée .... 4.50
`,
});

/**
 * On first run (the folder missing or empty) creates it with a few small sample files, so that there
 * is something to share at once; welcome.txt names `cli`, the command line as it runs here. Returns
 * whether it did. A folder with anything in it, hidden entries included, is left alone: call this
 * before creating keys inside the folder.
 */
export async function ensureSampleFiles(root: string, cli = "handout"): Promise<boolean> {
  const base = resolve(root);
  const existing = await unlessMissing(base, () => readdir(base));
  if (existing !== undefined && existing.length > 0) return false;
  for (const [key, content] of Object.entries(sampleFiles(cli))) {
    const path = join(base, ...key.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { flag: "wx" });
  }
  return true;
}
