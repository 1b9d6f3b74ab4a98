import { getMaxListeners, setMaxListeners } from "node:events";

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
}

export interface ListRequest {
  /** `""` or a folder prefix ending in `/`. */
  readonly prefix: string;
  /** Group keys below the next `/` into `folders` instead of listing them. */
  readonly delimited?: boolean;
  /** List only keys after this one (first page only). */
  readonly startAfter?: string;
  readonly continuationToken?: string;
}

export interface ListPage {
  /** In the store's key order. */
  readonly objects: readonly ListedObject[];
  /** With `delimited`: the folders (common prefixes) directly under the prefix, in the store's order. */
  readonly folders: readonly string[];
  /** Set when there is another page. */
  readonly continuationToken: string | undefined;
}

/** One page of a listing: the seam where S3, an in-memory store (bench) or a failing store (tests) plug in. */
export interface PageSource {
  listPage(request: ListRequest, signal?: AbortSignal): Promise<ListPage>;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A store held in memory that pages like ListObjectsV2 (`pageSize` entries a page, folders included),
 * in JavaScript string order: for tests, the bench, and trying the index without a bucket.
 */
export function memoryPageSource(objects: readonly ListedObject[], pageSize = 1000): PageSource {
  const sorted = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const firstFrom = (from: number, before: (key: string) => boolean) => {
    let lo = from;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before((sorted[mid] as ListedObject).key)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    async listPage(request, signal) {
      signal?.throwIfAborted();
      // A token is the last entry returned, marked as a folder (F) or a key (K).
      const token = request.continuationToken;
      const after = token === undefined ? request.startAfter : token.slice(1);
      let i = firstFrom(0, (key) => key < request.prefix);
      if (after !== undefined) i = firstFrom(i, (key) => key <= after);
      if (token?.startsWith("F")) i = firstFrom(i, (key) => key.startsWith(token.slice(1)));
      const page: ListedObject[] = [];
      const folders: string[] = [];
      let last = "";
      while (i < sorted.length && page.length + folders.length < pageSize) {
        const object = sorted[i] as ListedObject;
        if (!object.key.startsWith(request.prefix)) break;
        const slash = request.delimited ? object.key.indexOf("/", request.prefix.length) : -1;
        if (slash >= 0) {
          const folder = object.key.slice(0, slash + 1);
          folders.push(folder);
          last = `F${folder}`;
          i = firstFrom(i, (key) => key.startsWith(folder));
        } else {
          page.push(object);
          last = `K${object.key}`;
          i++;
        }
      }
      const more = i < sorted.length && (sorted[i] as ListedObject).key.startsWith(request.prefix);
      return { objects: page, folders, continuationToken: more ? last : undefined };
    },
  };
}

export interface ListProgress {
  readonly objects: number;
  readonly requests: number;
}

export interface ListOptions {
  /** Requests in flight at most. 1 with `splitDepth: 0` is a plain serial listing. */
  readonly concurrency?: number;
  /**
   * How many folder levels may be listed with a delimiter to find where to split the work; 0 lists each
   * root in one pass.
   */
  readonly splitDepth?: number;
  /** Called with each page's objects as they arrive, in no particular order across pages. */
  readonly onObjects: (objects: readonly ListedObject[]) => void;
  readonly onProgress?: (progress: ListProgress) => void;
  readonly signal?: AbortSignal;
}

/** The sub-folders a delimited listing found, in the store's order, for range tasks to share out. */
interface FolderRun {
  readonly folders: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

interface SplitTask {
  readonly kind: "split";
  readonly prefix: string;
  readonly depth: number;
  /** How many tasks this folder's listing may become. */
  readonly width: number;
}

interface RangeTask {
  readonly kind: "range";
  readonly prefix: string;
  /** Only keys inside a sub-folder: the folder's delimited listing already delivered the others. */
  readonly foldersOnly: boolean;
  readonly startAfter?: string;
  /** Set when the task lists `run.folders[start]` up to (not including) `run.folders[end]`. */
  readonly run?: FolderRun;
  readonly start: number;
  /** Shrinks when an idle worker takes over the folders this task has not reached. */
  end: number;
  /** The furthest folder of `run` this task has delivered keys from. */
  reached: number;
}

type Task = SplitTask | RangeTask;

const wholeFolder = (prefix: string): RangeTask => ({
  kind: "range",
  prefix,
  foldersOnly: false,
  start: 0,
  end: 0,
  reached: 0,
});

/** A range over folders `start` to `end` of `run`, listed flat from the first one. */
const folderRange = (prefix: string, run: FolderRun, start: number, end: number): RangeTask => ({
  kind: "range",
  prefix,
  foldersOnly: true,
  // Starting after the folder's own name skips only its marker, which is left out anyway.
  startAfter: run.folders[start] as string,
  run,
  start,
  end,
  reached: start,
});

/**
 * Every object under `roots`, in parallel. A folder is listed with a delimiter to discover its
 * sub-folders; those are handed out as contiguous groups (at most as many as the parallelism still
 * wanted), each listed flat from its first folder, so that a thousand small folders do not cost a
 * thousand requests. When a worker falls idle, the group with the most folders still to go gives it
 * the second half of them, so one large group does not keep the listing waiting. Each key is
 * delivered exactly once. Folder markers (zero-byte keys ending in `/`, made by consoles' "Create
 * folder") are not files and are left out.
 */
export async function listBucket(
  source: PageSource,
  roots: readonly string[],
  options: ListOptions,
): Promise<ListProgress> {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const splitDepth = Math.max(0, options.splitDepth ?? 4);
  const signal = options.signal;
  // Each request in flight listens for the abort (the SDK's HTTP handler, a back-off's sleep): with
  // many in flight that is past Node's default of ten, which it reports as a possible leak.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), 4 * concurrency + 10), signal);
  let objects = 0;
  let requests = 0;
  const running = new Set<RangeTask>();

  const fetchPage = async (request: ListRequest): Promise<ListPage> => {
    signal?.throwIfAborted();
    const page = await source.listPage(request, signal);
    signal?.throwIfAborted();
    requests++;
    return page;
  };
  const deliver = (page: readonly ListedObject[]) => {
    const batch = page.filter((object) => !object.key.endsWith("/"));
    if (batch.length === 0) return;
    objects += batch.length;
    options.onObjects(batch);
  };
  const report = () => options.onProgress?.({ objects, requests });

  const rangeTask = async (task: RangeTask): Promise<void> => {
    running.add(task);
    try {
      let continuationToken: string | undefined;
      let first = true;
      do {
        const page = await fetchPage({
          prefix: task.prefix,
          ...(first && task.startAfter !== undefined ? { startAfter: task.startAfter } : {}),
          ...(continuationToken ? { continuationToken } : {}),
        });
        first = false;
        const batch: ListedObject[] = [];
        let stop = false;
        for (const object of page.objects) {
          const slash = object.key.indexOf("/", task.prefix.length);
          if (slash < 0) {
            if (!task.foldersOnly) batch.push(object);
            continue;
          }
          // `end` is read now, after the wait: folders handed over meanwhile are another task's.
          const at = task.run?.index.get(object.key.slice(0, slash + 1));
          if (at !== undefined && at >= task.end) {
            stop = true;
            break;
          }
          if (at !== undefined && at > task.reached) task.reached = at;
          batch.push(object);
        }
        deliver(batch);
        report();
        continuationToken = stop ? undefined : page.continuationToken;
      } while (continuationToken);
    } finally {
      running.delete(task);
    }
  };

  /** Takes over the second half of the folders the busiest running group has not reached yet. */
  const steal = (): Task | undefined => {
    let victim: RangeTask | undefined;
    for (const task of running) {
      if (task.run && task.end - task.reached > (victim ? victim.end - victim.reached : 1)) victim = task;
    }
    if (!victim?.run) return undefined;
    const middle = victim.reached + Math.ceil((victim.end - victim.reached) / 2);
    const rest = folderRange(victim.prefix, victim.run, middle, victim.end);
    victim.end = middle;
    return rest;
  };

  const splitTask = async (task: SplitTask, spawn: (t: Task) => void) => {
    const folders: string[] = [];
    // Some S3-compatible stores repeat a folder on the page after the one that first named it.
    const seen = new Set<string>();
    let continuationToken: string | undefined;
    do {
      const page = await fetchPage({
        prefix: task.prefix,
        delimited: true,
        ...(continuationToken ? { continuationToken } : {}),
      });
      deliver(page.objects);
      for (const folder of page.folders) {
        if (seen.has(folder)) continue;
        seen.add(folder);
        folders.push(folder);
      }
      report();
      continuationToken = page.continuationToken;
    } while (continuationToken);
    if (folders.length === 0) return;
    if (folders.length <= task.width) {
      const share = Math.floor(task.width / folders.length);
      folders.forEach((folder, i) => {
        const width = share + (i < task.width % folders.length ? 1 : 0);
        spawn(
          width > 1 && task.depth + 1 < splitDepth
            ? { kind: "split", prefix: folder, depth: task.depth + 1, width }
            : wholeFolder(folder),
        );
      });
      return;
    }
    const run: FolderRun = { folders, index: new Map(folders.map((folder, i) => [folder, i])) };
    for (let group = 0; group < task.width; group++) {
      const start = Math.ceil((group * folders.length) / task.width);
      const end = Math.ceil(((group + 1) * folders.length) / task.width);
      if (end > start) spawn(folderRange(task.prefix, run, start, end));
    }
  };

  const initial: Task[] = roots.map((prefix) =>
    splitDepth > 0
      ? { kind: "split", prefix, depth: 0, width: Math.max(1, Math.ceil((concurrency * 2) / roots.length)) }
      : wholeFolder(prefix),
  );
  await runPool(
    initial,
    concurrency,
    signal,
    (task, spawn) => (task.kind === "split" ? splitTask(task, spawn) : rangeTask(task)),
    steal,
  );
  return { objects, requests };
}

/**
 * Runs tasks, which may add more, at most `concurrency` at a time; a free worker with nothing queued
 * asks `steal` for work. On the first failure no new task starts, and the promise rejects once those
 * in flight have settled, so nothing runs on after it.
 */
function runPool<T>(
  initial: readonly T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  run: (task: T, spawn: (task: T) => void) => Promise<void>,
  steal: () => T | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const queue = [...initial];
    let active = 0;
    let failure: { error: unknown } | undefined;
    const pump = () => {
      if (!failure && signal?.aborted) failure = { error: signal.reason };
      while (!failure && active < concurrency) {
        if (queue.length === 0) {
          const stolen = steal();
          if (stolen === undefined) break;
          queue.push(stolen);
        }
        const task = queue.shift() as T;
        active++;
        run(task, (next) => queue.push(next)).then(
          () => {
            active--;
            pump();
          },
          (error: unknown) => {
            active--;
            failure ??= { error };
            pump();
          },
        );
      }
      if (active === 0 && (failure || queue.length === 0)) {
        if (failure) reject(failure.error);
        else resolve();
      }
    };
    pump();
  });
}
