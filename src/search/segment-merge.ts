import { setImmediate } from "node:timers/promises";
import {
  byNameKeys,
  countStops,
  fillByName,
  fillPairFilter,
  INDEX_SPAN,
  newestFirstKeys,
  pack,
  pairFilterLength,
  placesOf,
  type SegmentParts,
  WIDE,
} from "./file-index.js";

/**
 * Files (or numbers) handled between two turns of the event loop. Merging a million files (100
 * segments a listing sealed) took about 2.5 s here, in stretches of at most about 45 ms, the longest
 * being the merge by key (it compares strings) and the joins of a whole text: a Slack request waits at
 * most that long, where building the segment at once would hold it for seconds.
 */
const STRETCH = 20_000;
/** Characters counted between two turns of the event loop (counting stops reads one at a time). */
const CHAR_STRETCH = 2_000_000;
/**
 * Numbers sorted natively at once: a million took 160 ms here, too long a wait for one stretch, so
 * runs of this many are sorted natively and then merged in stretches.
 */
const SORT_RUN = 1 << 15;

const pause = () => setImmediate();

/** Runs `work` over [0, count) a stretch of `size` at a time, yielding to the event loop after each. */
async function inStretches(count: number, size: number, work: (from: number, to: number) => void) {
  for (let from = 0; from < count; from += size) {
    work(from, Math.min(count, from + size));
    await pause();
  }
}

/**
 * Merges the sorted runs [a, aEnd) and [aEnd, bEnd) of `source` into the same places of `target`, at
 * most `budget` numbers a call. NaN goes last, as a native sort puts it.
 */
class RunMerge {
  constructor(
    private readonly source: Float64Array,
    private readonly target: Float64Array,
    private a: number,
    private readonly aEnd: number,
    private b: number,
    private readonly bEnd: number,
  ) {}

  /** Moves up to `budget` numbers; true when both runs are done. */
  step(budget: number): boolean {
    const { source, target, aEnd, bEnd } = this;
    let a = this.a;
    let b = this.b;
    let out = a + b - this.aEnd;
    const stop = Math.min(out + budget, bEnd);
    while (out < stop) {
      if (b >= bEnd) target[out++] = source[a++] as number;
      else if (a >= aEnd) target[out++] = source[b++] as number;
      else {
        const x = source[a] as number;
        const y = source[b] as number;
        // NaN is never below anything: keep it for last.
        if (x <= y || Number.isNaN(y)) {
          target[out++] = x;
          a++;
        } else {
          target[out++] = y;
          b++;
        }
      }
    }
    this.a = a;
    this.b = b;
    return out >= bEnd;
  }
}

/**
 * `values` sorted ascending, as `values.sort()` leaves them (but for the order of 0 and -0, which no
 * caller tells apart), in stretches: runs sorted natively, then merged pairwise in JavaScript. The
 * result is `values` itself or a new array.
 */
async function sortInStretches(values: Float64Array): Promise<Float64Array> {
  const n = values.length;
  for (let from = 0; from < n; from += SORT_RUN) {
    values.subarray(from, Math.min(n, from + SORT_RUN)).sort();
    await pause();
  }
  let source: Float64Array = values;
  let target: Float64Array = new Float64Array(n);
  for (let width = SORT_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const merge = new RunMerge(source, target, lo, mid, mid, Math.min(n, lo + 2 * width));
      while (!merge.step(STRETCH)) await pause();
      await pause();
    }
    [source, target] = [target, source];
  }
  return source;
}

/**
 * Every file of the inputs not marked gone, in key order, by a k-way merge of each input's key
 * order: a binary heap of the inputs by their next key, each built once. Keys found in several inputs
 * are kept from the earliest, as the constructor keeps the first of equal keys. Folders are numbered
 * in key order of first appearance, each input's folder looked up by its path once.
 */
class KeyMerge {
  /** For each file in key order: its input, its place there, its folder here, its time. */
  readonly inputOf: Uint32Array;
  readonly fileOf: Uint32Array;
  readonly dirByRank: Uint32Array;
  readonly timeByRank: Float64Array;
  count = 0;
  /** Folder paths, and their normalised texts, by number. */
  readonly dirs: string[] = [];
  readonly dirTexts: string[] = [];
  private readonly dirIds = new Map<string, number>();
  /** For each input, its folders' numbers here (-1 until met). */
  private readonly dirMaps: Int32Array[];
  /** For each input, the place in its key order of its next file, and that file's key. */
  private readonly next: Uint32Array;
  private readonly heads: string[];
  /** For each input, the folder of its next file, and its path. */
  private readonly headDirs: Int32Array;
  private readonly headDirPaths: string[];
  private readonly heap: Uint32Array;
  private size = 0;
  private lastKey = "";

  constructor(private readonly parts: readonly SegmentParts[]) {
    const total = parts.reduce((sum, part) => sum + part.count, 0);
    this.inputOf = new Uint32Array(total);
    this.fileOf = new Uint32Array(total);
    this.dirByRank = new Uint32Array(total);
    this.timeByRank = new Float64Array(total);
    this.dirMaps = parts.map((part) => new Int32Array(part.dirNameStarts.length - 1).fill(-1));
    this.next = new Uint32Array(parts.length);
    this.heads = parts.map(() => "");
    this.headDirs = new Int32Array(parts.length).fill(-1);
    this.headDirPaths = parts.map(() => "");
    this.heap = new Uint32Array(parts.length);
    parts.forEach((_, j) => {
      if (this.advance(j, 0)) this.push(j);
    });
  }

  /** Moves input `j` to its first file from place `rank` on that is not gone; false when none is left. */
  private advance(j: number, rank: number): boolean {
    const part = this.parts[j] as SegmentParts;
    const { byKey, gone } = part;
    while (rank < part.count && gone?.[byKey[rank] as number] === 1) rank++;
    this.next[j] = rank;
    if (rank >= part.count) return false;
    const i = byKey[rank] as number;
    const dir = part.dirOf[i] as number;
    if (dir !== this.headDirs[j]) {
      this.headDirs[j] = dir;
      this.headDirPaths[j] = part.dirNames.slice(part.dirNameStarts[dir], part.dirNameStarts[dir + 1]);
    }
    this.heads[j] = this.headDirPaths[j] + part.names.slice(part.nameStarts[i], part.nameStarts[i + 1]);
    return true;
  }

  private less(a: number, b: number): boolean {
    return (this.heads[a] as string) < (this.heads[b] as string);
  }

  private push(j: number): void {
    const heap = this.heap;
    let at = this.size++;
    while (at > 0) {
      const up = (at - 1) >>> 1;
      if (!this.less(j, heap[up] as number)) break;
      heap[at] = heap[up] as number;
      at = up;
    }
    heap[at] = j;
  }

  /** Puts the heap's top, whose key has grown (or which is gone when `size` shrank), back in order. */
  private siftDown(): void {
    const heap = this.heap;
    const size = this.size;
    const j = heap[0] as number;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && this.less(heap[child + 1] as number, heap[child] as number)) child++;
      if (!this.less(heap[child] as number, j)) break;
      heap[at] = heap[child] as number;
      at = child;
    }
    heap[at] = j;
  }

  /** The folder number here of input `j`'s folder `dir`, numbering it when first met. */
  private dirId(j: number, dir: number): number {
    const map = this.dirMaps[j] as Int32Array;
    let id = map[dir] as number;
    if (id >= 0) return id;
    const path = this.headDirPaths[j] as string;
    id = this.dirIds.get(path) ?? -1;
    if (id < 0) {
      const part = this.parts[j] as SegmentParts;
      id = this.dirs.length;
      this.dirIds.set(path, id);
      this.dirs.push(path);
      this.dirTexts.push(
        part.dirText.slice(part.dirTextStarts[dir], (part.dirTextStarts[dir + 1] as number) - 1),
      );
    }
    map[dir] = id;
    return id;
  }

  /** Takes up to `budget` files in key order; true when every input is done. */
  step(budget: number): boolean {
    for (let taken = 0; taken < budget && this.size > 0; taken++) {
      const j = this.heap[0] as number;
      const part = this.parts[j] as SegmentParts;
      const rank = this.next[j] as number;
      const i = part.byKey[rank] as number;
      const key = this.heads[j] as string;
      const out = this.count;
      if (out > 0 && key === this.lastKey) {
        // Equal keys leave the heap one after another, in no set order: the earliest input's stands.
        if (j < (this.inputOf[out - 1] as number)) {
          this.inputOf[out - 1] = j;
          this.fileOf[out - 1] = i;
          this.timeByRank[out - 1] = part.times[i] as number;
        }
      } else {
        if (out + 1 >= INDEX_SPAN) throw new RangeError(`A segment holds fewer than ${INDEX_SPAN} files.`);
        this.inputOf[out] = j;
        this.fileOf[out] = i;
        this.timeByRank[out] = part.times[i] as number;
        this.dirByRank[out] = this.dirId(j, part.dirOf[i] as number);
        this.count = out + 1;
        this.lastKey = key;
      }
      if (!this.advance(j, rank + 1)) {
        this.size--;
        this.heap[0] = this.heap[this.size] as number;
      }
      if (this.size > 0) this.siftDown();
    }
    return this.size === 0;
  }
}

/**
 * `pack` of many texts, given a stretch of them at a time: each stretch is packed at once, so that its
 * texts (slices of the inputs') die young instead of a million of them living through the merge, and
 * the pieces are joined at the end. Also tells whether the text holds a character above Latin-1.
 */
class Packer {
  readonly starts: Uint32Array;
  private readonly pieces: string[] = [];
  private at = 0;
  private filled = 0;
  private wide = false;

  constructor(
    count: number,
    private readonly separator: string,
  ) {
    this.starts = new Uint32Array(count + 1);
  }

  add(texts: readonly string[]): void {
    const piece = pack(texts, this.separator);
    for (let k = 0; k < texts.length; k++)
      this.starts[this.filled + k] = (piece.starts[k] as number) + this.at;
    this.filled += texts.length;
    this.at += piece.text.length;
    this.pieces.push(piece.text);
    this.wide ||= WIDE.test(piece.text);
  }

  finish(): { text: string; starts: Uint32Array; wide: boolean } {
    this.starts[this.filled] = this.at;
    // One join of a few long pieces: a flat string, as `pack` makes (about 30 ms for 30 million
    // characters here, the longest single step of a merge).
    return { text: this.pieces.join(""), starts: this.starts, wide: this.wide };
  }
}

/** `pack(texts, separator)` in stretches. */
async function packInStretches(texts: readonly string[], separator: string) {
  const packer = new Packer(texts.length, separator);
  await inStretches(texts.length, STRETCH, (from, to) => packer.add(texts.slice(from, to)));
  return packer.finish();
}

/** `memchrStops(text)` in stretches, given whether `text` holds a character above Latin-1. */
async function stopsInStretches(text: string, wide: boolean): Promise<Uint32Array> {
  const stops = new Uint32Array(256);
  await inStretches(text.length, CHAR_STRETCH, (from, to) => countStops(stops, text, wide, from, to));
  return stops;
}

/**
 * The parts of one segment holding every file of `parts` that is not gone, exactly as `new Segment`
 * would build them from those files (a key in several inputs taken from the earliest): so that a
 * hundred small segments a listing sealed become a few large ones, which search faster. Built from
 * the inputs' arrays and texts, never a file as an object, and a stretch at a time: building a
 * segment of a million files at once would hold the event loop for seconds. Throws a RangeError when
 * the files do not fit one segment (`INDEX_SPAN`).
 */
export async function mergeSegments(parts: readonly SegmentParts[]): Promise<SegmentParts> {
  const merge = new KeyMerge(parts);
  while (!merge.step(STRETCH)) await pause();
  await pause();
  const n = merge.count;
  const { inputOf, fileOf, dirByRank } = merge;

  // Newest first, the same time in key order, as `newestFirst` orders them.
  const keyTimes = merge.timeByRank.subarray(0, n);
  const sorted = await sortInStretches(keyTimes.slice());
  let sortable: Float64Array = new Float64Array(n);
  await inStretches(n, STRETCH, (from, to) => newestFirstKeys(keyTimes, sorted, sortable, from, to));
  sortable = await sortInStretches(sortable);
  const keyRank = new Uint32Array(n);
  await inStretches(n, STRETCH, (from, to) => placesOf(sortable, keyRank, from, to));

  // A file's name and normalised name are its slices of the input's texts, without the line break.
  const byKey = new Uint32Array(n);
  const dirOf = new Uint32Array(n);
  const sizes = new Uint32Array(n);
  const high = new Uint16Array(n);
  const times = new Float64Array(n);
  const namePacker = new Packer(n, "");
  const textPacker = new Packer(n, "\n");
  let large = false;
  await inStretches(n, STRETCH, (from, to) => {
    const names: string[] = new Array(to - from);
    const normalized: string[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      const rank = keyRank[i] as number;
      const part = parts[inputOf[rank] as number] as SegmentParts;
      const file = fileOf[rank] as number;
      byKey[rank] = i;
      dirOf[i] = dirByRank[rank] as number;
      sizes[i] = part.sizes[file] as number;
      if (part.sizesHigh.length > 0 && part.sizesHigh[file] !== 0) {
        high[i] = part.sizesHigh[file] as number;
        large = true;
      }
      times[i] = part.times[file] as number;
      names[i - from] = part.names.slice(part.nameStarts[file], part.nameStarts[file + 1]);
      normalized[i - from] = part.text.slice(
        part.textStarts[file],
        (part.textStarts[file + 1] as number) - 1,
      );
    }
    namePacker.add(names);
    textPacker.add(normalized);
  });
  const packedNames = namePacker.finish();
  await pause();
  const packedText = textPacker.finish();
  await pause();
  const packedDirs = await packInStretches(merge.dirs, "");
  const packedDirText = await packInStretches(merge.dirTexts, "\n");
  const { text, starts: textStarts } = packedText;

  // The pair, then the place, as the constructor sorts them.
  let byNameOrder: Float64Array = new Float64Array(n);
  await inStretches(n, STRETCH, (from, to) => byNameKeys(text, textStarts, byNameOrder, from, to));
  byNameOrder = await sortInStretches(byNameOrder);
  const byName = new Uint32Array(n);
  const byNameLength = new Uint16Array(n);
  await inStretches(n, STRETCH, (from, to) =>
    fillByName(byNameOrder, textStarts, byName, byNameLength, from, to),
  );

  const pairFilter = new Uint32Array(pairFilterLength(n));
  await inStretches(n, STRETCH, (from, to) => fillPairFilter(pairFilter, text, textStarts, from, to));
  const stops = await stopsInStretches(text, packedText.wide);
  const dirStops = await stopsInStretches(packedDirText.text, packedDirText.wide);

  return {
    count: n,
    dirNames: packedDirs.text,
    dirNameStarts: packedDirs.starts,
    dirText: packedDirText.text,
    dirTextStarts: packedDirText.starts,
    dirOf,
    names: packedNames.text,
    nameStarts: packedNames.starts,
    text,
    textStarts,
    byName,
    byNameLength,
    sizes,
    sizesHigh: large ? high : new Uint16Array(0),
    times,
    byKey,
    keyRank,
    pairFilter,
    stops,
    dirStops,
    gone: undefined,
  };
}
