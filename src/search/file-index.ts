import { keyProblem } from "../domain/object-key.js";
import type { FileInfo, FileSearch, FileSearchStatus, SearchResult } from "../domain/ports.js";
import {
  assertFolderPrefixes,
  clampLimit,
  coveringPrefixes,
  MatchTier,
  normalizeForSearch,
} from "../domain/search.js";
import type { Logger } from "../logger.js";
import { EventOverlay } from "./event-overlay.js";
import { type ListedObject, type ListProgress, listBucket, type PageSource } from "./lister.js";

const byKey = (a: ListedObject, b: ListedObject): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** First index in [lo, hi) whose value is greater than `value` (`values` ascending). */
function upperBound(values: Uint32Array, value: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Concatenates texts into one flat string, each followed by `separator`, with the offset where each
 * starts; `starts[n]` is where a text after the last would start. Built by one `join`: a string glued
 * with `+` is a rope that V8 flattens again on every `indexOf`.
 */
export function pack(texts: readonly string[], separator: string): { text: string; starts: Uint32Array } {
  const starts = new Uint32Array(texts.length + 1);
  let at = 0;
  texts.forEach((text, i) => {
    starts[i] = at;
    at += text.length + separator.length;
  });
  starts[texts.length] = at;
  return { text: [...texts, ""].join(separator), starts };
}

const CONTROL = /\p{Cc}/u;
/** A character that does not fit one byte: V8 then holds the whole string in two a character. */
export const WIDE = /[\u0100-\uffff]/;
/**
 * A character of CJK or a later block (U+2E80 on: Chinese, Japanese, Korean, full-width forms, and the
 * surrogates of emoji and the rest). Latin, Greek, Cyrillic and the punctuation that English names hold
 * (– ’ “ ”) come before it.
 */
const EAST = /[\u2e80-\uffff]/;

/**
 * Which segments a name (or a segment's text) goes to: 0 when it fits Latin-1, 1 when it holds wider
 * characters but none from `EAST`, 2 when it does. Every segment holds names of one class, so that a query in one script
 * skips the segments of names in others (see `Segment.blocks`).
 */
const scriptOf = (name: string): number => (!WIDE.test(name) ? 0 : EAST.test(name) ? 2 : 1);

/**
 * The Unicode blocks of 256 (a character's higher byte) that `text` holds characters of, as a set;
 * `wide` says whether it holds any beyond Latin-1.
 */
function blocksOf(text: string, wide: boolean): Uint32Array {
  const set = new Uint32Array(8);
  if (!wide) {
    set[0] = 1;
    return set;
  }
  for (let at = 0; at < text.length; at++) {
    const block = text.charCodeAt(at) >>> 8;
    set[block >>> 5] = (set[block >>> 5] as number) | (1 << (block & 31));
  }
  return set;
}

/** The distinct blocks of 256 (see `blocksOf`) that `text` holds characters of. */
function blockList(text: string): number[] {
  const blocks = new Set<number>();
  for (let at = 0; at < text.length; at++) blocks.add(text.charCodeAt(at) >>> 8);
  return [...blocks];
}

/** Files a segment can number: a place fits below it in the low bits of a sort key. */
export const INDEX_SPAN = 2 ** 20;

/** Names a block of the pair filter covers. */
const BLOCK_SHIFT = 8;
/** Bits of a block's pair filter (a power of two): 2 KB a block, about 8 MB for a million names. */
const BLOCK_BITS = 1 << 14;
const BLOCK_WORDS = BLOCK_BITS / 32;

/** Blocks whose filters decide whether a scan uses the filter at all (see `filterBits`). */
const FILTER_SAMPLE = 64;

/** Files a walk over a pair's files reads before it judges whether they start with the query. */
const WALK_SAMPLE = 32;

/** Blocks in a row that a scan reads in place rather than through a copy. */
const LONG_RUN = 8;

/** The part of a segment's text a scan copied last. */
interface ScanRun {
  start: number;
  stop: number;
  text: string;
}
const noRun = (): ScanRun => ({ start: 0, stop: 0, text: "" });

/** The filter bit of two adjacent characters. */
const gramBit = (first: number, second: number): number =>
  Math.imul(first * 0x10001 + second, 0x9e3779b1) >>> (32 - Math.log2(BLOCK_BITS));

/** A normalised query, with the filter bits of its pairs (see `gramBits`), worked out once for every segment. */
export interface Wanted {
  readonly text: string;
  readonly grams: readonly number[];
  /** The blocks of 256 its characters belong to (see `blocksOf`): a segment lacking one cannot hold it. */
  readonly blocks: readonly number[];
}

/** The filter bits of every pair of adjacent characters in `text`, without repeats. */
function gramBits(text: string): number[] {
  const bits = new Set<number>();
  for (let at = 0; at + 1 < text.length; at++)
    bits.add(gramBit(text.charCodeAt(at), text.charCodeAt(at + 1)));
  return [...bits];
}

/**
 * Where V8's `indexOf` stops in `text`, by byte value: it finds a needle's first character with memchr
 * over the string's bytes, one a character when every character fits (Latin-1), else two (UTF-16LE),
 * asking for the character's higher byte; every byte of that value is a stop, wherever it lies.
 */
function memchrStops(text: string): Uint32Array {
  const stops = new Uint32Array(256);
  countStops(stops, text, WIDE.test(text), 0, text.length);
  return stops;
}

/**
 * Adds to `stops` those of the characters [from, to) of `text`, as `memchrStops` counts them; `wide`
 * is whether the whole text holds a character above Latin-1. Apart, so that a long text can be
 * counted a stretch at a time.
 */
export function countStops(stops: Uint32Array, text: string, wide: boolean, from: number, to: number): void {
  if (!wide) {
    for (let at = from; at < to; at++) {
      const code = text.charCodeAt(at);
      stops[code] = (stops[code] as number) + 1;
    }
    return;
  }
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    const low = code & 0xff;
    const high = code >>> 8;
    stops[low] = (stops[low] as number) + 1;
    if (high !== low) stops[high] = (stops[high] as number) + 1;
  }
}

/** The byte memchr looks for to find `code` (see `memchrStops`). */
const searchByte = (code: number): number => Math.max(code & 0xff, code >>> 8);

/**
 * How to find `query` fast in one text: V8 looks for needles of up to 6 characters by jumping to each
 * occurrence of their first character's byte (memchr, see `memchrStops`), and switches longer ones to
 * a search that measured several times slower here. So look for at most 6 characters starting where
 * memchr stops least (by `stops`, the text's), then check the whole query around each hit. In a text
 * of one byte a character, a query with a wider one cannot match at all. A dash or a CJK character
 * looks rare, but in UTF-16 memchr stops at every space or letter that shares its higher byte.
 */
export class Needle {
  readonly piece: string;
  /** Where `piece` starts in the query. */
  readonly offset: number;
  /** How often memchr stops in the text to find `piece`. */
  readonly stops: number;
  private readonly impossible: boolean;

  constructor(
    readonly query: string,
    stops?: Uint32Array,
    wide = true,
  ) {
    let best = 0;
    let fewest = Number.POSITIVE_INFINITY;
    // The piece keeps at least 3 characters (or the whole query), so that false hits stay few.
    for (let k = 0; k <= query.length - Math.min(3, query.length); k++) {
      const count = stops ? (stops[searchByte(query.charCodeAt(k))] as number) : 0;
      if (count < fewest) {
        fewest = count;
        best = k;
      }
    }
    this.offset = best;
    this.piece = query.slice(best, best + 6);
    this.stops = stops ? fewest : 0;
    this.impossible = !wide && WIDE.test(query);
  }

  /** The first place at or after `from` where `text` holds the whole query, or -1. */
  find(text: string, from: number): number {
    if (this.impossible) return -1;
    for (
      let at = text.indexOf(this.piece, from + this.offset);
      at >= 0;
      at = text.indexOf(this.piece, at + 1)
    ) {
      const start = at - this.offset;
      if (this.piece.length === this.query.length || text.startsWith(this.query, start)) return start;
    }
    return -1;
  }
}

// How a folder's normalised path matches a query: contains it whole, or ends with its part up to the last `/`.
const WHOLE = 1;
const ENDS = 2;

/**
 * A quick yes for the common key that `keyProblem` would accept: at most 341 UTF-16 units (so at most
 * 1,023 UTF-8 bytes), no control character, no surrogate at all, no `//`, no segment starting with a
 * dot (which covers `.` and `..`), no `/` at either end. Anything else gets the full check.
 */
export function plainlyShareable(key: string): boolean {
  if (key.length === 0 || key.length > 341) return false;
  // As if after a `/`: a leading `/` or `.` is caught like one after a slash.
  let previous = 0x2f;
  for (let at = 0; at < key.length; at++) {
    const code = key.charCodeAt(at);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xdfff)) return false;
    if (previous === 0x2f && (code === 0x2f || code === 0x2e)) return false;
    previous = code;
  }
  return previous !== 0x2f;
}

/**
 * The places of `objects` (in key order), newest first and the same time in key order. Sorting numbers
 * is native; a comparator in JavaScript was a good part of building a segment. A time's rank among the
 * distinct times and the place fit one exact double, so one native sort orders both.
 */
function newestFirst(objects: readonly ListedObject[]): Uint32Array {
  const n = objects.length;
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = (objects[i] as ListedObject).lastModified;
  const sortable = new Float64Array(n);
  newestFirstKeys(times, times.slice().sort(), sortable, 0, n);
  sortable.sort();
  const order = new Uint32Array(n);
  placesOf(sortable, order, 0, n);
  return order;
}

/**
 * The numbers that sort the places [from, to) of `times` (in key order) newest first, the same time in
 * key order, into `sortable`; `sorted` holds the same times ascending. See `newestFirst`.
 */
export function newestFirstKeys(
  times: Float64Array,
  sorted: Float64Array,
  sortable: Float64Array,
  from: number,
  to: number,
): void {
  const n = times.length;
  for (let i = from; i < to; i++) {
    // The rank of this time counted from the newest; equal times share one.
    let lo = 0;
    let hi = n;
    const time = times[i] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) <= time) lo = mid + 1;
      else hi = mid;
    }
    sortable[i] = (n - lo) * INDEX_SPAN + i;
  }
}

/** The places held in the low bits of `sorted` [from, to) (numbers of a place below `INDEX_SPAN`), into `places`. */
export function placesOf(sorted: Float64Array, places: Uint32Array, from: number, to: number): void {
  for (let at = from; at < to; at++) places[at] = (sorted[at] as number) % INDEX_SPAN;
}

/** The first two characters of file `i`'s normalised name, as one number that sorts as they do. */
function pairAt(text: string, textStarts: Uint32Array, i: number): number {
  const start = textStarts[i] as number;
  const second = start + 1 < (textStarts[i + 1] as number) - 1 ? text.charCodeAt(start + 1) : 0;
  return text.charCodeAt(start) * 0x10000 + second;
}

/**
 * The numbers that sort files [from, to) by the first two characters of their normalised names, then
 * by place, into `sortable`: sorted, they give `byName` (see `fillByName`).
 */
export function byNameKeys(
  text: string,
  textStarts: Uint32Array,
  sortable: Float64Array,
  from: number,
  to: number,
): void {
  for (let i = from; i < to; i++) sortable[i] = pairAt(text, textStarts, i) * INDEX_SPAN + i;
}

/** `byName` and `byNameLength` at places [from, to), from the numbers of `byNameKeys` sorted. */
export function fillByName(
  sorted: Float64Array,
  textStarts: Uint32Array,
  byName: Uint32Array,
  byNameLength: Uint16Array,
  from: number,
  to: number,
): void {
  for (let at = from; at < to; at++) {
    const i = (sorted[at] as number) % INDEX_SPAN;
    byName[at] = i;
    byNameLength[at] = (textStarts[i + 1] as number) - (textStarts[i] as number) - 1;
  }
}

/** Sets in `pairFilter` the bits of the pairs in the normalised names of files [from, to). */
export function fillPairFilter(
  pairFilter: Uint32Array,
  text: string,
  textStarts: Uint32Array,
  from: number,
  to: number,
): void {
  for (let i = from; i < to; i++) {
    const base = (i >>> BLOCK_SHIFT) * BLOCK_WORDS;
    const end = (textStarts[i + 1] as number) - 1;
    let previous = text.charCodeAt(textStarts[i] as number);
    for (let at = (textStarts[i] as number) + 1; at < end; at++) {
      const code = text.charCodeAt(at);
      const bit = gramBit(previous, code);
      pairFilter[base + (bit >>> 5)] = (pairFilter[base + (bit >>> 5)] as number) | (1 << (bit & 31));
      previous = code;
    }
  }
}

/** The pair filter's length for `count` files: `BLOCK_WORDS` for each block of names. */
export const pairFilterLength = (count: number): number =>
  ((count + (1 << BLOCK_SHIFT) - 1) >>> BLOCK_SHIFT) * BLOCK_WORDS;

/** The filter bits (see `gramBit`) of every pair of adjacent characters anywhere in `text`, as one set. */
function pairSet(text: string): Uint32Array {
  const set = new Uint32Array(BLOCK_WORDS);
  let previous = text.charCodeAt(0);
  for (let at = 1; at < text.length; at++) {
    const code = text.charCodeAt(at);
    const bit = gramBit(previous, code);
    set[bit >>> 5] = (set[bit >>> 5] as number) | (1 << (bit & 31));
    previous = code;
  }
  return set;
}

/** Whether `set` (see `pairSet` and `blocksOf`) holds every one of `bits`. */
const holdsAll = (set: Uint32Array, bits: readonly number[]): boolean =>
  bits.every((bit) => ((set[bit >>> 5] as number) & (1 << (bit & 31))) !== 0);

/** The third character of each `byName` file's normalised name, or 0 for a shorter one. */
function thirdCharacters(
  byName: Uint32Array,
  byNameLength: Uint16Array,
  textStarts: Uint32Array,
  text: string,
): Uint16Array {
  const thirds = new Uint16Array(byName.length);
  for (let at = 0; at < byName.length; at++) {
    if ((byNameLength[at] as number) > 2)
      thirds[at] = text.charCodeAt((textStarts[byName[at] as number] as number) + 2);
  }
  return thirds;
}

/** Whether `rank` lies in one of `ranges` ([lo, hi) pairs). */
function inRanges(ranges: readonly number[], rank: number): boolean {
  for (let r = 0; r < ranges.length; r += 2) {
    if (rank >= (ranges[r] as number) && rank < (ranges[r + 1] as number)) return true;
  }
  return false;
}

/**
 * An immutable slice of the index. A million objects of five fields would cost hundreds of megabytes;
 * parallel typed arrays and a few long strings cost a fraction, and a query scans one long string
 * with the engine's native `indexOf` instead of calling it on a million short ones.
 *
 * Files are held newest first, so that a scan meets matches in the order they rank within a tier and
 * stops as soon as no later file could get in; `byKey` gives key order, for prefix ranges.
 */
export class Segment {
  readonly count: number;
  /** Original folder paths (each ending in `/`, or `""` for the top), packed. */
  private readonly dirNames: string;
  private readonly dirNameStarts: Uint32Array;
  /** Normalised folder paths, each followed by `\n`. */
  private readonly dirText: string;
  private readonly dirTextStarts: Uint32Array;
  private readonly dirOf: Uint32Array;
  /** Original file names (after the last `/`), packed. */
  private readonly names: string;
  private readonly nameStarts: Uint32Array;
  /** Normalised file names, each followed by `\n`, which no query contains. */
  private readonly text: string;
  private readonly textStarts: Uint32Array;
  /** Files by the first two characters of their normalised names, newest first within each pair. */
  private readonly byName: Uint32Array;
  /** The length of each `byName` file's normalised name, side by side with it. */
  private readonly byNameLength: Uint16Array;
  /** The third character of each `byName` file's normalised name (0 for a shorter one), side by side with it. */
  private readonly byNameThird: Uint16Array;
  /** Sizes in bytes, the low 32 bits; `sizesHigh` the bits above, only when a size needs them. */
  private readonly sizes: Uint32Array;
  private readonly sizesHigh: Uint16Array;
  private readonly times: Float64Array;
  /** Files in key order. */
  private readonly byKey: Uint32Array;
  /** Each file's place in key order. */
  private readonly keyRank: Uint32Array;
  private gone: Uint8Array | undefined;
  private goneCount = 0;
  /** Scratch for path matching, one byte per folder. */
  private readonly dirHits: Uint8Array;

  /**
   * For each block of 256 names (in `text` order), a bit for each pair of adjacent characters that
   * occurs in them: a scan skips the blocks that lack one of the query's pairs, which for a specific
   * query (or one that matches nothing) is almost all of them.
   */
  private readonly pairFilter: Uint32Array;
  /** Where a search stops in `text` and in `dirText`, to choose needles (see `memchrStops`). */
  private readonly stops: Uint32Array;
  private readonly dirStops: Uint32Array;
  /**
   * The pairs of adjacent characters anywhere in `dirText`: a query with a pair no folder path holds
   * (a file's extension, most often) is not looked for in them at all.
   */
  private readonly dirPairs: Uint32Array;
  /** Whether its names are held two bytes a character (see `segmentsOf`). */
  readonly wide: boolean;
  /** The class of script of its names (see `scriptOf`); a segment holds names of one class. */
  readonly script: number;
  /** The blocks of 256 characters its names hold characters of (see `blocksOf`). */
  private readonly blocks: Uint32Array;
  private readonly dirWide: boolean;
  private readonly fixedBytes: number;

  /** Takes `objects` (and sorts them); drops keys that cannot be shared (see `keyProblem`) and repeats. */
  constructor(objects: ListedObject[]) {
    objects.sort(byKey);
    const kept: ListedObject[] = [];
    for (const object of objects) {
      if (kept.length > 0 && (kept[kept.length - 1] as ListedObject).key === object.key) continue;
      if (plainlyShareable(object.key) || keyProblem(object.key) === undefined) kept.push(object);
    }
    const n = kept.length;
    if (n >= INDEX_SPAN) throw new RangeError(`A segment holds fewer than ${INDEX_SPAN} files.`);
    this.count = n;
    // In key order, neighbours mostly share a folder: compare with the last one before hashing.
    const dirIds = new Map<string, number>();
    const dirs: string[] = [];
    const dirByRank = new Uint32Array(n);
    const cuts = new Uint32Array(n);
    let lastDir = "\n";
    let lastId = 0;
    kept.forEach((object, rank) => {
      const key = object.key;
      const cut = key.lastIndexOf("/") + 1;
      cuts[rank] = cut;
      if (cut !== lastDir.length || !key.startsWith(lastDir)) {
        lastDir = key.slice(0, cut);
        let id = dirIds.get(lastDir);
        if (id === undefined) {
          id = dirs.length;
          dirIds.set(lastDir, id);
          dirs.push(lastDir);
        }
        lastId = id;
      }
      dirByRank[rank] = lastId;
    });
    // Newest first; the same time in key order, which `kept` already is.
    const order = newestFirst(kept);
    this.byKey = new Uint32Array(n);
    this.keyRank = order;
    this.dirOf = new Uint32Array(n);
    this.sizes = new Uint32Array(n);
    // S3's objects are at most 5 TB (43 bits): most buckets hold none of 4 GiB, and 4 bytes a file do.
    const large = kept.some((object) => object.size >= 2 ** 32);
    this.sizesHigh = new Uint16Array(large ? n : 0);
    this.times = new Float64Array(n);
    const names: string[] = new Array(n);
    const normalized: string[] = new Array(n);
    order.forEach((rank, i) => {
      const object = kept[rank] as ListedObject;
      this.byKey[rank] = i;
      this.dirOf[i] = dirByRank[rank] as number;
      const name = object.key.slice(cuts[rank]);
      names[i] = name;
      normalized[i] = normalizeForSearch(name);
      this.sizes[i] = object.size % 2 ** 32;
      if (large) this.sizesHigh[i] = Math.floor(object.size / 2 ** 32);
      this.times[i] = object.lastModified;
    });
    ({ text: this.names, starts: this.nameStarts } = pack(names, ""));
    ({ text: this.text, starts: this.textStarts } = pack(normalized, "\n"));
    ({ text: this.dirNames, starts: this.dirNameStarts } = pack(dirs, ""));
    ({ text: this.dirText, starts: this.dirTextStarts } = pack(dirs.map(normalizeForSearch), "\n"));
    this.dirHits = new Uint8Array(dirs.length);
    // Sorting numbers is native and fast; sorting names compares strings in JavaScript, several
    // times slower. The pair, then the place, so each pair's files come newest first.
    const sortable = new Float64Array(n);
    byNameKeys(this.text, this.textStarts, sortable, 0, n);
    sortable.sort();
    this.byName = new Uint32Array(n);
    // A key is at most 1,024 bytes, so a name fits 16 bits.
    this.byNameLength = new Uint16Array(n);
    fillByName(sortable, this.textStarts, this.byName, this.byNameLength, 0, n);
    this.byNameThird = thirdCharacters(this.byName, this.byNameLength, this.textStarts, this.text);
    this.stops = memchrStops(this.text);
    this.dirStops = memchrStops(this.dirText);
    this.dirPairs = pairSet(this.dirText);
    this.script = scriptOf(this.text);
    this.wide = this.script > 0;
    this.blocks = blocksOf(this.text, this.wide);
    this.dirWide = WIDE.test(this.dirText);
    this.pairFilter = new Uint32Array(pairFilterLength(n));
    fillPairFilter(this.pairFilter, this.text, this.textStarts, 0, n);
    this.fixedBytes = this.measure();
  }

  /** The bytes its texts and arrays hold, but for the gone marks (see `bytes`). */
  private measure(): number {
    // V8 keeps a string in one byte a character when every character fits, else in two.
    const textBytes = (text: string, wide = WIDE.test(text)) => (wide ? 2 : 1) * text.length;
    return (
      textBytes(this.dirNames) +
      textBytes(this.dirText, this.dirWide) +
      textBytes(this.names) +
      textBytes(this.text, this.wide) +
      [
        this.dirNameStarts,
        this.dirTextStarts,
        this.dirOf,
        this.nameStarts,
        this.textStarts,
        this.sizes,
        this.sizesHigh,
        this.times,
        this.byKey,
        this.keyRank,
        this.byName,
        this.byNameLength,
        this.byNameThird,
        this.pairFilter,
        this.dirHits,
        this.stops,
        this.dirStops,
        this.dirPairs,
        this.blocks,
      ].reduce((sum, a) => sum + a.byteLength, 0)
    );
  }

  get files(): number {
    return this.count - this.goneCount;
  }

  /** An estimate of the memory this segment holds, in bytes. */
  get bytes(): number {
    return this.fixedBytes + (this.gone?.byteLength ?? 0);
  }

  key(i: number): string {
    const dir = this.dirOf[i] as number;
    return (
      this.dirNames.slice(this.dirNameStarts[dir], this.dirNameStarts[dir + 1]) +
      this.names.slice(this.nameStarts[i], this.nameStarts[i + 1])
    );
  }

  private size(i: number): number {
    const high = this.sizesHigh.length > 0 ? (this.sizesHigh[i] as number) : 0;
    return high * 2 ** 32 + (this.sizes[i] as number);
  }

  time(i: number): number {
    return this.times[i] as number;
  }

  info(i: number): FileInfo {
    return {
      key: this.key(i),
      size: this.size(i),
      lastModified: new Date(this.times[i] as number),
    };
  }

  /** The place in key order of the first key not below `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key(this.byKey[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The file holding `key`, or -1. */
  find(key: string): number {
    const rank = this.lowerBound(key);
    const i = this.byKey[rank];
    return i !== undefined && this.key(i) === key ? i : -1;
  }

  /** The keys here that start with `prefix` (and are not gone), in key order. */
  *keysStartingWith(prefix: string): Generator<string> {
    for (let rank = this.lowerBound(prefix); rank < this.count; rank++) {
      const i = this.byKey[rank] as number;
      const key = this.key(i);
      if (!key.startsWith(prefix)) return;
      if (this.gone?.[i] !== 1) yield key;
    }
  }

  /** Every file here that is not gone, in key order. */
  *entries(): Generator<ListedObject> {
    for (let rank = 0; rank < this.count; rank++) {
      const i = this.byKey[rank] as number;
      if (this.gone?.[i] === 1) continue;
      yield { key: this.key(i), size: this.size(i), lastModified: this.times[i] as number };
    }
  }

  /** Forgets a file until the segment is replaced; true when it was here. */
  markGone(key: string): boolean {
    const i = this.find(key);
    if (i < 0 || this.gone?.[i]) return false;
    this.gone ??= new Uint8Array(this.count);
    this.gone[i] = 1;
    this.goneCount++;
    return true;
  }

  /** The keys found gone since `before` (a copy of the gone marks taken earlier). */
  *goneSince(before: Uint8Array | undefined): Generator<string> {
    const gone = this.gone;
    if (gone === undefined) return;
    for (let i = 0; i < this.count; i++) if (gone[i] === 1 && before?.[i] !== 1) yield this.key(i);
  }

  /** Whether file `i` may be offered: not gone, and under one of the prefixes `ranges` stands for. */
  private eligible(i: number, ranges: readonly number[]): boolean {
    return (this.gone === undefined || this.gone[i] === 0) && inRanges(ranges, this.keyRank[i] as number);
  }

  /** The key-order ranges ([lo, hi) pairs) under `prefixes` (covering prefixes, sorted). */
  ranges(prefixes: readonly string[]): number[] {
    const out: number[] = [];
    for (const prefix of prefixes) {
      const start = this.lowerBound(prefix);
      let lo = start;
      let hi = this.count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.key(this.byKey[mid] as number).startsWith(prefix)) lo = mid + 1;
        else hi = mid;
      }
      if (lo > start) out.push(start, lo);
    }
    return out;
  }

  /** The first two characters of a file's normalised name, as one number that sorts as they do. */
  private pairOf(i: number): number {
    return pairAt(this.text, this.textStarts, i);
  }

  /** The first place in `byName` whose pair is not below `pair`. */
  private pairBound(pair: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pairOf(this.byName[mid] as number) < pair) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The filter bits of `query`'s pairs, or none when most blocks may hold them all: a query that
   * common is found soon by a plain scan, and checking blocks would only slow it.
   */
  private filterBits(query: Wanted): readonly number[] {
    const bits = query.grams;
    const blocks = this.pairFilter.length / BLOCK_WORDS;
    // Blocks spread evenly over the segment tell as well as all of them, and reading every block's
    // filter for every query cost as much as the scan it was to spare.
    const step = Math.max(1, Math.floor(blocks / FILTER_SAMPLE));
    let sampled = 0;
    let candidates = 0;
    for (let block = 0; block < blocks; block += step) {
      sampled++;
      if (this.mayHold(block, bits)) candidates++;
    }
    return candidates * 2 > sampled ? [] : bits;
  }

  /** Whether block `block` may hold every pair of `bits`. */
  private mayHold(block: number, bits: readonly number[]): boolean {
    const base = block * BLOCK_WORDS;
    for (const bit of bits) {
      if (((this.pairFilter[base + (bit >>> 5)] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /**
   * The first place at or after `from` where `text` holds the whole query, as `needle.find` would
   * answer, scanning only the runs of blocks whose filter holds every pair of the query. A long run is
   * scanned in place (a match past its end is still a match); a short one through a copy, which
   * `run` keeps for the next call.
   */
  private seek(needle: Needle, bits: readonly number[], from: number, run: ScanRun): number {
    if (bits.length === 0) return needle.find(this.text, from);
    const blocks = this.pairFilter.length / BLOCK_WORDS;
    const startOf = (block: number) => this.textStarts[Math.min(this.count, block << BLOCK_SHIFT)] as number;
    if (from >= run.start && from < run.stop) {
      const at = needle.find(run.text, from - run.start);
      if (at >= 0) return run.start + at;
      from = run.stop;
    }
    let block = (upperBound(this.textStarts, from, 0, this.count) - 1) >>> BLOCK_SHIFT;
    for (;;) {
      while (block < blocks && !this.mayHold(block, bits)) block++;
      if (block >= blocks) return -1;
      let end = block + 1;
      while (end < blocks && end - block < LONG_RUN && this.mayHold(end, bits)) end++;
      const start = Math.max(from, startOf(block));
      if (end - block >= LONG_RUN) return needle.find(this.text, start);
      const stop = startOf(end);
      // Names end in a line break, which no query holds: a match never crosses a run's end.
      run.start = start;
      run.stop = stop;
      run.text = this.text.slice(start, stop);
      const at = needle.find(run.text, 0);
      if (at >= 0) return start + at;
      block = end;
    }
  }

  /** How to find `query` in this segment's names. */
  private needle(query: string): Needle {
    return new Needle(query, this.stops, this.wide);
  }

  /**
   * Offers the files whose normalised name equals `query` or starts with it. True when it also offered
   * those whose name holds it further in (as `collectInsideNames` would): a walk that handed over to a
   * scan finds those in the same pass.
   */
  collectNamePrefixes(query: Wanted, ranges: readonly number[], top: TopMatches): boolean {
    const q = query.text;
    // Its names lack characters of one of the query's blocks.
    if (!holdsAll(this.blocks, query.blocks)) return false;
    const first = q.charCodeAt(0) * 0x10000;
    const pair = q.length > 1 ? first + q.charCodeAt(1) : first;
    const lo = this.pairBound(pair);
    const hi = this.pairBound(q.length > 1 ? pair + 1 : first + 0x10000);
    if (q.length === 1) {
      this.collectLetter(q, lo, hi, ranges, top);
      return false;
    }
    // One pair's files come newest first, and so do a scan's matches: a walk that has cost as much as
    // a scan of the whole text (a walk reads scattered memory, about 200 ns a file, measured; a scan
    // runs at about 20 characters a nanosecond and stops at each byte memchr looks for, about 15 ns)
    // hands over to a scan from where it is. The third characters, side by side with the files, pass
    // over the pair's files that cannot match without reading them.
    const needle = this.needle(q);
    const scanCost = this.text.length / 20 + needle.stops * 15;
    const budget = Math.max(64, scanCost / 200);
    const third = q.length > 2 ? q.charCodeAt(2) : -1;
    let walked = 0;
    let hits = 0;
    let at = lo;
    for (; at < hi; at++) {
      if (third >= 0 && this.byNameThird[at] !== third) continue;
      const i = this.byName[at] as number;
      if (!top.wouldTake(MatchTier.namePrefix, this.times[i] as number)) break;
      // A long query's pair and third character say little: when the first files walked mostly do
      // not start with it, the rest will not either, and the walk would only double the scan's cost.
      if (++walked > budget || (walked > WALK_SAMPLE && hits * 16 < walked)) {
        this.scanNames(needle, this.filterBits(query), ranges, top, this.textStarts[i] as number);
        return true;
      }
      if (!this.text.startsWith(q, this.textStarts[i] as number)) continue;
      hits++;
      if (!this.offerNamePrefix(i, q, ranges, top)) return false;
    }
    // Only an exact name can still get in: look at the lengths side by side with the files, and read
    // a file only when its name is as long as the query.
    for (; at < hi; at++) {
      if (this.byNameLength[at] !== q.length) continue;
      if (!this.offerNamePrefix(this.byName[at] as number, q, ranges, top)) return false;
    }
    return false;
  }

  /**
   * Offers the files whose name starts with the one letter `q`: those of `byName` in [lo, hi), one run
   * of files newest first for each pair the letter starts. Taking the newest head of the runs in turn
   * stops as soon as the best are found, where sorting the files of every run (a tenth of a large
   * segment, for a common letter) cost milliseconds. Once no name longer than the letter can get in,
   * only the letter itself can: the first run, whose pair is the letter alone.
   */
  private collectLetter(q: string, lo: number, hi: number, ranges: readonly number[], top: TopMatches): void {
    const heads: number[] = [];
    const ends: number[] = [];
    for (let at = lo; at < hi; ) {
      const end = this.pairBound(this.pairOf(this.byName[at] as number) + 1);
      heads.push(at);
      ends.push(end);
      at = end;
    }
    const alone = lo < hi && this.byNameLength[lo] === 1;
    for (;;) {
      let best = -1;
      for (let r = 0; r < heads.length; r++) {
        if ((heads[r] as number) >= (ends[r] as number)) continue;
        if (
          best < 0 ||
          (this.byName[heads[r] as number] as number) < (this.byName[heads[best] as number] as number)
        )
          best = r;
      }
      if (best < 0) return;
      const i = this.byName[heads[best] as number] as number;
      if (!top.wouldTake(MatchTier.namePrefix, this.times[i] as number)) break;
      heads[best] = (heads[best] as number) + 1;
      if (!this.offerNamePrefix(i, q, ranges, top)) return;
    }
    if (!alone) return;
    for (let at = heads[0] as number; at < (ends[0] as number); at++) {
      if (!this.offerNamePrefix(this.byName[at] as number, q, ranges, top)) return;
    }
  }

  /**
   * One scan for the query in every name: the names that hold it further in, from the start, and when
   * `prefixesFrom` is given those that start with it from there on (a walk offered those before).
   */
  private scanNames(
    needle: Needle,
    bits: readonly number[],
    ranges: readonly number[],
    top: TopMatches,
    prefixesFrom?: number,
  ): void {
    const starts = this.textStarts;
    // Files come newest first: once one cannot get in at the best tier sought, no later one can.
    const best = prefixesFrom === undefined ? MatchTier.inName : MatchTier.exactName;
    const run = noRun();
    let i = 0;
    for (let from = 0; ; ) {
      const at = this.seek(needle, bits, from, run);
      if (at < 0) return;
      i = upperBound(starts, at, i, this.count) - 1;
      // The first match in a name is at its start when the name starts with the query; the rest of
      // the name cannot change its tier.
      from = starts[i + 1] as number;
      const time = this.times[i] as number;
      if (!top.wouldTake(best, time)) return;
      if (at === starts[i]) {
        if (prefixesFrom !== undefined && at >= prefixesFrom)
          this.offerNamePrefix(i, needle.query, ranges, top);
      } else if (top.wouldTake(MatchTier.inName, time) && this.eligible(i, ranges)) {
        top.offer(this, i, MatchTier.inName);
      }
    }
  }

  /** Offers file `i` if its name equals or starts with `query`; false once nothing later can get in. */
  private offerNamePrefix(i: number, query: string, ranges: readonly number[], top: TopMatches): boolean {
    const time = this.times[i] as number;
    // Files come newest first: once an exact name could not get in, nothing later can.
    if (!top.wouldTake(MatchTier.exactName, time)) return false;
    const start = this.textStarts[i] as number;
    const exact = (this.textStarts[i + 1] as number) - 1 - start === query.length;
    const tier = exact ? MatchTier.exactName : MatchTier.namePrefix;
    if (
      (exact || top.wouldTake(tier, time)) &&
      this.text.startsWith(query, start) &&
      this.eligible(i, ranges)
    ) {
      top.offer(this, i, tier);
    }
    return true;
  }

  /** Offers the files whose normalised name contains `query` (without `/`) but does not start with it. */
  collectInsideNames(query: Wanted, ranges: readonly number[], top: TopMatches): void {
    if (!holdsAll(this.blocks, query.blocks)) return;
    this.scanNames(this.needle(query.text), this.filterBits(query), ranges, top);
  }

  /**
   * Offers the files whose path matches `query` and whose name does not (already offered). `roots`
   * are the prefixes `ranges` stand for: folders outside them are not worth a walk over the files.
   */
  collectPaths(query: Wanted, roots: readonly string[], ranges: readonly number[], top: TopMatches): void {
    const hits = this.dirHits;
    const marked: number[] = [];
    const starts = this.dirTextStarts;
    const mark = (text: string, grams: readonly number[], flag: number) => {
      if (!holdsAll(this.dirPairs, grams)) return;
      const needle = new Needle(text, this.dirStops, this.dirWide);
      for (let from = 0; ; ) {
        const at = needle.find(this.dirText, from);
        if (at < 0) return;
        const dir = upperBound(starts, at, 0, hits.length) - 1;
        from = (starts[dir + 1] as number) - 1;
        if (hits[dir] === 0) {
          // A file's folder is its whole path but the name: only folders under a root hold eligible files.
          const path = this.dirNames.slice(this.dirNameStarts[dir], this.dirNameStarts[dir + 1]);
          if (!roots.some((root) => path.startsWith(root))) continue;
          marked.push(dir);
        }
        hits[dir] = (hits[dir] as number) | flag;
      }
    };
    mark(query.text, query.grams, WHOLE);
    // A match across the last `/`: the query's head ends the folder path and its tail starts the name.
    const cut = query.text.lastIndexOf("/") + 1;
    const tail = query.text.slice(cut);
    if (cut > 0) {
      const head = `${query.text.slice(0, cut)}\n`;
      mark(head, gramBits(head), ENDS);
    }
    if (marked.length === 0) return;
    try {
      for (let i = 0; i < this.count; i++) {
        const hit = hits[this.dirOf[i] as number] as number;
        if (hit === 0) continue;
        if (!top.wouldTake(MatchTier.inPath, this.times[i] as number)) return;
        if (!this.eligible(i, ranges) || top.holds(this, i)) continue;
        if (hit & WHOLE || this.text.startsWith(tail, this.textStarts[i]))
          top.offer(this, i, MatchTier.inPath);
      }
    } finally {
      for (const dir of marked) hits[dir] = 0;
    }
  }

  /** Offers the newest files in `ranges` while `top` would take them. */
  collectRecent(ranges: readonly number[], top: TopMatches): void {
    for (let i = 0; i < this.count; i++) {
      if (!top.wouldTake(MatchTier.exactName, this.times[i] as number)) return;
      if (this.eligible(i, ranges)) top.offer(this, i, MatchTier.exactName);
    }
  }

  /** What a snapshot saves: the built arrays and texts as they are, and the files found gone. */
  parts(): SegmentParts {
    return {
      count: this.count,
      dirNames: this.dirNames,
      dirNameStarts: this.dirNameStarts,
      dirText: this.dirText,
      dirTextStarts: this.dirTextStarts,
      dirOf: this.dirOf,
      names: this.names,
      nameStarts: this.nameStarts,
      text: this.text,
      textStarts: this.textStarts,
      byName: this.byName,
      byNameLength: this.byNameLength,
      sizes: this.sizes,
      sizesHigh: this.sizesHigh,
      times: this.times,
      byKey: this.byKey,
      keyRank: this.keyRank,
      pairFilter: this.pairFilter,
      stops: this.stops,
      dirStops: this.dirStops,
      gone: this.gone,
    };
  }

  /**
   * A segment from `parts()` of another, recomputing nothing. Throws a RangeError for parts that do not
   * fit together (a wrong length, an offset out of order or past its text, an index past the end), so
   * that no search ever reads past them.
   */
  static fromParts(parts: SegmentParts): Segment {
    checkParts(parts);
    const segment = Object.create(Segment.prototype) as Segment;
    const dirHits = new Uint8Array(parts.dirNameStarts.length - 1);
    const byNameThird = thirdCharacters(parts.byName, parts.byNameLength, parts.textStarts, parts.text);
    const dirPairs = pairSet(parts.dirText);
    const script = scriptOf(parts.text);
    const wide = script > 0;
    const blocks = blocksOf(parts.text, wide);
    const dirWide = WIDE.test(parts.dirText);
    let goneCount = 0;
    for (const mark of parts.gone ?? []) goneCount += mark;
    Object.assign(segment, {
      ...parts,
      byNameThird,
      dirHits,
      dirPairs,
      blocks,
      script,
      goneCount,
      wide,
      dirWide,
    });
    return Object.assign(segment, { fixedBytes: segment.measure() });
  }
}

/** A segment's built contents: see `Segment.parts` and `Segment.fromParts`. */
export interface SegmentParts {
  readonly count: number;
  readonly dirNames: string;
  readonly dirNameStarts: Uint32Array;
  readonly dirText: string;
  readonly dirTextStarts: Uint32Array;
  readonly dirOf: Uint32Array;
  readonly names: string;
  readonly nameStarts: Uint32Array;
  readonly text: string;
  readonly textStarts: Uint32Array;
  readonly byName: Uint32Array;
  readonly byNameLength: Uint16Array;
  readonly sizes: Uint32Array;
  /** The bits of each size above the low 32; empty when no size needs them. */
  readonly sizesHigh: Uint16Array;
  readonly times: Float64Array;
  readonly byKey: Uint32Array;
  readonly keyRank: Uint32Array;
  readonly pairFilter: Uint32Array;
  /** Where a search stops in `text` and in `dirText`, by byte value (see `memchrStops`). */
  readonly stops: Uint32Array;
  readonly dirStops: Uint32Array;
  /** One byte a file, 1 for a file gone; absent when none is. */
  readonly gone: Uint8Array | undefined;
}

function checkParts(parts: SegmentParts): void {
  const n = parts.count;
  const fail = (what: string): never => {
    throw new RangeError(`A segment's ${what} does not fit its ${n} files.`);
  };
  if (!Number.isInteger(n) || n < 0 || n >= INDEX_SPAN) fail("file count");
  const dirs = parts.dirNameStarts.length - 1;
  const starts = (values: Uint32Array, length: number, text: string, name: string) => {
    if (values.length !== length + 1 || values[0] !== 0 || values[length] !== text.length) fail(name);
    for (let i = 0; i < length; i++) if ((values[i] as number) > (values[i + 1] as number)) fail(name);
  };
  if (dirs < 0) fail("folder offsets");
  starts(parts.dirNameStarts, dirs, parts.dirNames, "folder offsets");
  starts(parts.dirTextStarts, dirs, parts.dirText, "folder text offsets");
  starts(parts.nameStarts, n, parts.names, "name offsets");
  starts(parts.textStarts, n, parts.text, "name text offsets");
  for (const [values, name] of [
    [parts.dirOf, "folders"],
    [parts.byName, "name order"],
    [parts.byNameLength, "name lengths"],
    [parts.sizes, "sizes"],
    [parts.times, "times"],
    [parts.byKey, "key order"],
    [parts.keyRank, "key ranks"],
  ] as const) {
    if (values.length !== n) fail(name);
  }
  for (const dir of parts.dirOf) if (dir >= dirs) fail("folders");
  for (const values of [parts.byName, parts.byKey, parts.keyRank])
    for (const i of values) if (i >= n) fail("orders");
  for (let j = 0; j < n; j++) {
    const i = parts.byName[j] as number;
    if (parts.byNameLength[j] !== (parts.textStarts[i + 1] as number) - (parts.textStarts[i] as number) - 1)
      fail("name lengths");
  }
  if (parts.pairFilter.length !== pairFilterLength(n)) fail("pair filter");
  if (parts.stops.length !== 256 || parts.dirStops.length !== 256) fail("search stops");
  if (parts.sizesHigh.length !== 0 && parts.sizesHigh.length !== n) fail("sizes");
  if (parts.gone !== undefined && (parts.gone.length !== n || parts.gone.some((mark) => mark > 1)))
    fail("gone marks");
}

/** The best `limit` matches seen so far, best first: tier, then newer, then key order. */
export class TopMatches {
  private readonly segments: Segment[] = [];
  private readonly indexes: number[] = [];
  private readonly tiers: number[] = [];
  private readonly times: number[] = [];
  private readonly bySegment = new Map<Segment, Set<number>>();

  constructor(readonly limit: number) {}

  /** Whether a match of this tier and time might still get in (a tie on both is settled by key). */
  wouldTake(tier: number, time: number): boolean {
    const held = this.indexes.length;
    if (held < this.limit) return true;
    if (this.limit === 0) return false;
    const worstTier = this.tiers[held - 1] as number;
    return tier < worstTier || (tier === worstTier && time >= (this.times[held - 1] as number));
  }

  /** Whether `limit` matches of `tier` or better are held: nothing worse can get in. */
  fullAt(tier: number): boolean {
    return this.indexes.length >= this.limit && (this.tiers[this.limit - 1] ?? -1) <= tier;
  }

  holds(segment: Segment, index: number): boolean {
    return this.bySegment.get(segment)?.has(index) ?? false;
  }

  private before(segment: Segment, index: number, tier: number, time: number, at: number): boolean {
    const otherTier = this.tiers[at] as number;
    if (tier !== otherTier) return tier < otherTier;
    const otherTime = this.times[at] as number;
    if (time !== otherTime) return time > otherTime;
    const other = this.segments[at] as Segment;
    // Within a segment, files of the same time are in key order: no key need be built.
    if (other === segment) return index < (this.indexes[at] as number);
    return segment.key(index) < other.key(this.indexes[at] as number);
  }

  offer(segment: Segment, index: number, tier: number): void {
    const time = segment.time(index);
    if (!this.wouldTake(tier, time)) return;
    let lo = 0;
    let hi = this.indexes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(segment, index, tier, time, mid)) hi = mid;
      else lo = mid + 1;
    }
    if (lo >= this.limit) return;
    // A key listed twice (a folder created during a listing, at a hand-over) shows once: equal keys tie.
    if (lo > 0 && this.tiers[lo - 1] === tier && this.times[lo - 1] === time) {
      const previous = this.segments[lo - 1] as Segment;
      const same =
        previous === segment
          ? this.indexes[lo - 1] === index
          : previous.key(this.indexes[lo - 1] as number) === segment.key(index);
      if (same) return;
    }
    this.segments.splice(lo, 0, segment);
    this.indexes.splice(lo, 0, index);
    this.tiers.splice(lo, 0, tier);
    this.times.splice(lo, 0, time);
    const held = this.bySegment.get(segment) ?? new Set<number>();
    this.bySegment.set(segment, held);
    held.add(index);
    if (this.indexes.length > this.limit) {
      const dropped = this.segments.pop() as Segment;
      this.bySegment.get(dropped)?.delete(this.indexes.pop() as number);
      this.tiers.pop();
      this.times.pop();
    }
  }

  files(): FileInfo[] {
    return this.indexes.map((index, at) => (this.segments[at] as Segment).info(index));
  }
}

/** Each segment's key ranges for one set of prefixes; reset whenever the segments change. */
export type RangeCache = Map<string, readonly { segment: Segment; ranges: number[] }[]>;

/**
 * Searches `segments` for `query` under `prefixes`, as `FileSearch.search` describes. `cache` keeps
 * the ranges of recent prefix sets: one person's keystrokes all ask with the same prefixes.
 */
export function searchSegments(
  segments: readonly Segment[],
  query: string,
  prefixes: readonly string[],
  limit: number,
  cache?: RangeCache,
): FileInfo[] {
  assertFolderPrefixes(prefixes);
  const top = new TopMatches(clampLimit(limit));
  const q = normalizeForSearch(query.trim());
  // Shareable keys hold no control characters, and a line break would match across file names.
  if (top.limit === 0 || prefixes.length === 0 || CONTROL.test(q)) return [];
  const roots = coveringPrefixes(prefixes);
  const cacheKey = roots.join("\n");
  let views = cache?.get(cacheKey);
  if (!views) {
    views = segments
      .map((segment) => ({ segment, ranges: segment.ranges(roots) }))
      .filter((view) => view.ranges.length > 0);
    if (cache) {
      if (cache.size >= 256) cache.clear();
      cache.set(cacheKey, views);
    }
  }
  if (q === "") {
    for (const { segment, ranges } of views) segment.collectRecent(ranges, top);
    return top.files();
  }
  // Each tier across every segment before the next, so that a full answer skips the worse tiers.
  // File names hold no `/`: a query with one can only match a path.
  const wanted: Wanted = { text: q, grams: gramBits(q), blocks: blockList(q) };
  if (!q.includes("/")) {
    // A segment whose walk handed over to a scan has offered the names holding the query further in.
    const scanned = new Set<Segment>();
    for (const { segment, ranges } of views)
      if (segment.collectNamePrefixes(wanted, ranges, top)) scanned.add(segment);
    if (!top.fullAt(MatchTier.namePrefix)) {
      for (const { segment, ranges } of views)
        if (!scanned.has(segment)) segment.collectInsideNames(wanted, ranges, top);
    }
  }
  if (!top.fullAt(MatchTier.inName)) {
    for (const { segment, ranges } of views) segment.collectPaths(wanted, roots, ranges, top);
  }
  return top.files();
}

/**
 * Segments of these objects, one for each class of script their names are in (see `scriptOf`). V8
 * holds a string in one byte a character only when every character fits: one name in another script
 * would double the whole segment's text. And a query in Japanese need not read the names of a segment
 * without any (folders are few, shared by many names: their texts matter less).
 */
function segmentsOf(objects: readonly ListedObject[]): Segment[] {
  const parts: ListedObject[][] = [[], [], []];
  for (const object of objects)
    parts[scriptOf(object.key.slice(object.key.lastIndexOf("/") + 1))]?.push(object);
  return parts.filter((part) => part.length > 0).map((part) => new Segment(part));
}

/** Segments of the same class of script in runs of at most `limit` files: what `FileIndex.merge` merges. */
function mergeGroups(segments: readonly Segment[], limit: number): Segment[][] {
  const groups: Segment[][] = [];
  for (const script of [0, 1, 2]) {
    let group: Segment[] = [];
    let files = 0;
    for (const segment of segments) {
      if (segment.script !== script) continue;
      if (files + segment.count > limit && group.length > 0) {
        groups.push(group);
        group = [];
        files = 0;
      }
      group.push(segment);
      files += segment.count;
    }
    groups.push(group);
  }
  return groups.filter((group) => group.length > 1);
}

/** Collects listed objects and seals them into segments of a bounded size. */
class SegmentBuilder {
  readonly sealed: Segment[] = [];
  private pending: ListedObject[] = [];
  private sealPlanned = false;
  /** Set when the listing has ended: a planned seal then has nothing left to do. */
  closed = false;
  lastSealAt = 0;

  constructor(
    private readonly segmentSize: number,
    private readonly gone: ReadonlySet<string>,
    private readonly onSeal: () => void,
  ) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  add(objects: readonly ListedObject[]): void {
    for (const object of objects) this.pending.push(object);
    // A source that never yields to the event loop (one held in memory) would starve a planned seal.
    if (this.pending.length >= 2 * this.segmentSize) this.seal();
    if (this.pending.length < this.segmentSize || this.sealPlanned) return;
    // Sealing takes a while; planned for after this page, the lister sends its next request first,
    // and the listing goes on during the seal instead of waiting for it.
    this.sealPlanned = true;
    setImmediate(() => {
      this.sealPlanned = false;
      if (!this.closed) this.seal();
    });
  }

  seal(): void {
    this.lastSealAt = Date.now();
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const segment of segmentsOf(pending)) {
      for (const key of this.gone) segment.markGone(key);
      this.sealed.push(segment);
    }
    this.onSeal();
  }
}

export interface BuildReport {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationMs: number;
  /** Files in the new index (keys that cannot be shared are not counted). */
  readonly files: number;
  /** Objects listed, folder markers and unshareable keys included. */
  readonly listed: number;
  readonly requests: number;
}

export interface IndexStatus extends FileSearchStatus {
  /** A listing is running now. */
  readonly building: boolean;
  readonly lastBuild: BuildReport | undefined;
  /** The last listing's failure, cleared by the next success. */
  readonly lastError: { readonly at: Date; readonly message: string } | undefined;
  /** An estimate of the memory the index holds, in bytes. */
  readonly bytes: number;
  readonly segments: number;
}

export interface FileIndexOptions {
  readonly source: PageSource;
  /** What to index: every prefix the policy grants anyone (see `coveringPrefixes`); `""` is the bucket. */
  readonly roots: readonly string[];
  /** Time between the end of one listing and the start of the next. Default 10 minutes. */
  readonly refreshIntervalMs?: number;
  /** Time before trying again after a failed listing. Default 1 minute (never above the interval). */
  readonly retryIntervalMs?: number;
  /** Delay before the listing `refreshSoon` asks for; requests within it share one listing. Default 5 s. */
  readonly refreshSoonDelayMs?: number;
  /** Least time from the start of one listing to a listing that files found gone ask for. Default 1 minute. */
  readonly goneRelistIntervalMs?: number;
  readonly concurrency?: number;
  readonly splitDepth?: number;
  /** Files per segment; sealing one holds the event loop about 35 ms per 10,000. Default 10,000. */
  readonly segmentSize?: number;
  /**
   * Merges segments (`mergeSegments` of segment-merge.ts, which builds on this module): given, a
   * complete listing's small segments are merged into few large ones, as a search pays for each.
   */
  readonly mergeSegments?: (parts: readonly SegmentParts[]) => Promise<SegmentParts>;
  /** Files at most in a merged segment. Default 250,000. */
  readonly mergeUpTo?: number;
  /** During the first listing, how stale the searchable part may get before a search seals more. Default 1 s. */
  readonly sealIntervalMs?: number;
  readonly logger?: Pick<Logger, "info" | "warn">;
  readonly onProgress?: (progress: ListProgress) => void;
  /**
   * Keys never indexed, whatever the roots: Handout's own objects (its index snapshot). `prefix` is one
   * that every key it takes starts with (undefined: it takes none), so that a snapshot's million keys
   * need not each be built to be asked.
   */
  readonly hides?: ((key: string) => boolean) & { readonly prefix?: string | undefined };
  /** Told after each complete listing has taken over, with the roots it listed (to save a snapshot). */
  readonly onComplete?: (roots: readonly string[]) => void;
}

interface Build {
  readonly promise: Promise<BuildReport>;
  readonly controller: AbortController;
  readonly builder: SegmentBuilder;
  /** Searches see this listing's files as they arrive: there is nothing else to show. */
  readonly progressive: boolean;
  /** Keys reported gone while this listing ran: it may have listed them before they went. */
  readonly gone: Set<string>;
}

/**
 * The bucket's files in memory, for type-ahead search within Slack's 3 seconds. `start()` lists the
 * bucket in the background and returns at once; until the first listing ends, searches answer from
 * what is listed so far and say so (`partial`). The index is re-listed every `refreshIntervalMs`, and
 * soon after `fileGone` names an indexed file (at most once a `goneRelistIntervalMs`); a failed listing
 * keeps the last good index.
 */
export class FileIndex implements FileSearch {
  private live: readonly Segment[] = [];
  /** The listing's segments, without the files S3's events added since (`overlay`). */
  private listed: readonly Segment[] = [];
  private readonly overlay = new EventOverlay((objects) => new Segment(objects));
  private readonly rangeCache: RangeCache = new Map();
  private complete = false;
  private current: Build | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private started = false;
  private stopped = false;
  /** A listing asked for while one ran: the earliest time it may start. */
  private rerunAt: number | undefined;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private lastBuild: BuildReport | undefined;
  private lastError: IndexStatus["lastError"];
  private roots: string[];
  private readonly refreshIntervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly refreshSoonDelayMs: number;
  private readonly goneRelistIntervalMs: number;
  private readonly sealIntervalMs: number;

  private get segments(): readonly Segment[] {
    return this.live;
  }

  private set segments(segments: readonly Segment[]) {
    this.live = segments;
    this.rangeCache.clear();
  }

  constructor(private readonly options: FileIndexOptions) {
    this.roots = coveringPrefixes(options.roots);
    this.refreshIntervalMs = options.refreshIntervalMs ?? 10 * 60_000;
    this.retryIntervalMs = Math.min(options.retryIntervalMs ?? 60_000, this.refreshIntervalMs);
    this.refreshSoonDelayMs = options.refreshSoonDelayMs ?? 5_000;
    this.goneRelistIntervalMs = options.goneRelistIntervalMs ?? 60_000;
    this.sealIntervalMs = options.sealIntervalMs ?? 1_000;
  }

  /** Starts the first listing in the background, and the refreshes after it. Returns at once. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.refresh().catch(() => {});
  }

  /** Cancels the running listing and any planned one; the index keeps answering from what it holds. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const current = this.current;
    if (current) {
      current.controller.abort(new Error("The file index was stopped."));
      await current.promise.catch(() => {});
    }
  }

  /**
   * Lists the bucket now (or joins the listing under way) and resolves when the new index serves.
   * Rejects when the listing fails; the last good index then stays in service.
   */
  refresh(): Promise<BuildReport> {
    if (this.current) return this.current.promise;
    if (this.stopped) return Promise.reject(new Error("The file index was stopped."));
    clearTimeout(this.timer);
    this.nextAt = Number.POSITIVE_INFINITY;
    const progressive = !this.complete && this.files === 0;
    const gone = new Set<string>();
    const builder = new SegmentBuilder(this.options.segmentSize ?? 10_000, gone, () => {
      if (progressive) this.showListed([...builder.sealed]);
    });
    const controller = new AbortController();
    const startedAt = new Date();
    this.lastStartedAt = startedAt.getTime();
    const roots = this.roots;
    const promise = listBucket(this.options.source, roots, {
      ...(this.options.concurrency !== undefined ? { concurrency: this.options.concurrency } : {}),
      ...(this.options.splitDepth !== undefined ? { splitDepth: this.options.splitDepth } : {}),
      onObjects: (objects) => builder.add(this.visible(objects)),
      ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
      signal: controller.signal,
    }).then(
      async (progress) => {
        const report = this.finished(builder, gone, startedAt, progress);
        await this.merge().catch((error: unknown) => {
          this.options.logger?.warn(
            { err: error },
            "could not merge the index's segments; searching them as listed",
          );
        });
        this.current = undefined;
        this.planNext(this.refreshIntervalMs);
        this.options.onComplete?.(roots);
        return report;
      },
      (error: unknown) => this.failed(builder, progressive, controller, error),
    );
    this.current = { promise, controller, builder, progressive, gone };
    return promise;
  }

  private finished(
    builder: SegmentBuilder,
    gone: ReadonlySet<string>,
    startedAt: Date,
    progress: ListProgress,
  ): BuildReport {
    builder.seal();
    builder.closed = true;
    for (const key of gone) for (const segment of builder.sealed) segment.markGone(key);
    this.overlay.keepSince(startedAt.getTime());
    // The listed segments leave the builder, so that a merge can let each go once it is merged.
    this.showListed(builder.sealed.splice(0));
    this.complete = true;
    const finishedAt = new Date();
    const report: BuildReport = {
      startedAt,
      finishedAt,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      files: this.files,
      listed: progress.objects,
      requests: progress.requests,
    };
    this.lastBuild = report;
    this.lastError = undefined;
    this.options.logger?.info(
      { files: report.files, durationMs: report.durationMs, requests: report.requests },
      "file index refreshed",
    );
    return report;
  }

  /**
   * Replaces a complete listing's many small segments (sealed small, so that no seal holds the event
   * loop long) with a few large ones, group by group, while searches go on over the small ones. Files
   * found gone during a merge are marked in its result; a group that another listing has replaced
   * meanwhile is dropped.
   */
  private async merge(): Promise<void> {
    const mergeSegments = this.options.mergeSegments;
    if (!mergeSegments) return;
    const limit = this.options.mergeUpTo ?? 250_000;
    const groups = mergeGroups(this.listed, Math.min(limit, INDEX_SPAN - 1));
    for (let g = 0; g < groups.length; g++) {
      // Nothing here holds a group once it is merged: its segments go when searches are done with them,
      // instead of the whole listing staying in memory beside its merged copy until the last group.
      const group = groups[g] as Segment[];
      groups[g] = [];
      if (this.stopped) return;
      // A copy of the gone marks: the merge reads them over many turns, and more may come meanwhile.
      const parts = group.map((segment) => {
        const part = segment.parts();
        return { ...part, gone: part.gone?.slice() };
      });
      const merged = Segment.fromParts(await mergeSegments(parts));
      if (!group.every((segment) => this.listed.includes(segment))) return;
      group.forEach((segment, at) => {
        for (const key of segment.goneSince(parts[at]?.gone)) merged.markGone(key);
      });
      this.showListed([merged, ...this.listed.filter((segment) => !group.includes(segment))]);
    }
  }

  private failed(
    builder: SegmentBuilder,
    progressive: boolean,
    controller: AbortController,
    error: unknown,
  ): never {
    this.current = undefined;
    if (progressive) {
      // Nothing better to show: keep what the failed listing delivered, still marked partial.
      builder.seal();
      this.showListed(builder.sealed);
    }
    builder.closed = true;
    if (!controller.signal.aborted) {
      const message = (error as Error).message ?? String(error);
      this.lastError = { at: new Date(), message };
      this.options.logger?.warn(
        { err: error, files: this.files, complete: this.complete },
        this.complete
          ? "file index refresh failed; searches keep using the last complete index"
          : "file index listing failed; searches answer from the files listed so far",
      );
      this.planNext(this.retryIntervalMs);
    }
    throw error;
  }

  private planNext(ms: number): void {
    const now = Date.now();
    let at = now + ms;
    if (this.rerunAt !== undefined) {
      at = Math.min(at, Math.max(this.rerunAt, now + this.refreshSoonDelayMs));
      this.rerunAt = undefined;
    }
    this.schedule(at - now);
  }

  private schedule(ms: number): void {
    if (this.stopped || !this.started) return;
    clearTimeout(this.timer);
    this.nextAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {});
    }, ms);
    // A planned refresh alone should not keep a process (a CLI, a test run) alive.
    this.timer.unref();
  }

  /**
   * Lists other folders from now on (the policy changed) and re-lists soon. Until then the index
   * holds what the old roots gave: searches never go beyond the prefixes they are asked for.
   */
  setRoots(roots: readonly string[]): void {
    this.roots = coveringPrefixes(roots);
    this.refreshSoon();
  }

  /** Asks for a new listing shortly; calls close together share one. */
  refreshSoon(): void {
    this.refreshBy(Date.now() + this.refreshSoonDelayMs);
  }

  /** Plans a listing to start by `at`, unless one is planned sooner; calls close together share one. */
  private refreshBy(at: number): void {
    if (this.stopped) return;
    if (this.current) {
      this.rerunAt = Math.min(this.rerunAt ?? Number.POSITIVE_INFINITY, at);
      return;
    }
    if (this.nextAt > at) this.schedule(Math.max(0, at - Date.now()));
  }

  private showListed(listed: readonly Segment[]): void {
    this.listed = listed;
    this.segments = [...listed, ...this.overlay.segments];
  }

  /**
   * Adds or replaces files as S3's events report them, searchable at once. Keys outside the roots are
   * left out (the count of those kept is returned). The next listing supersedes them.
   */
  upsert(objects: readonly ListedObject[]): number {
    const kept = objects.filter((object) => this.roots.some((root) => object.key.startsWith(root)));
    for (const { key } of kept) {
      for (const segment of this.listed) segment.markGone(key);
      // A listing under way may have listed an older version: the event's stands.
      this.current?.gone.add(key);
    }
    this.overlay.put(kept, Date.now());
    this.showListed(this.listed);
    return kept.length;
  }

  /** Forgets files that S3's events report deleted, without the re-listing `fileGone` asks for. */
  remove(keys: readonly string[]): void {
    for (const key of keys) {
      for (const segment of this.listed) segment.markGone(key);
      this.current?.gone.add(key);
    }
    this.overlay.drop(keys);
    this.showListed(this.listed);
  }

  fileGone(key: string): void {
    let indexed = false;
    for (const segment of this.segments) if (segment.markGone(key)) indexed = true;
    this.current?.gone.add(key);
    if (this.overlay.has(key)) {
      this.overlay.drop([key]);
      this.showListed(this.listed);
    }
    // A key the index never held (made up, or already reported) says nothing about the listing, and
    // re-listing for it would let anyone make Handout list the bucket at will; once a minute is plenty.
    if (indexed) {
      this.refreshBy(
        Math.max(Date.now() + this.refreshSoonDelayMs, this.lastStartedAt + this.goneRelistIntervalMs),
      );
    }
  }

  /**
   * Serves `segments` (loaded from a snapshot of a complete listing of the current roots) as the
   * complete index until a listing replaces it. Refused, false, once a listing has begun or finished: it
   * knows better. Marks gone in them the files this index hides and those S3's events reported since
   * start, which are newer than the snapshot's copies.
   */
  seed(segments: Segment[]): boolean {
    if (this.complete || this.current || this.stopped) return false;
    const hides = this.options.hides;
    // A predicate that names no prefix may take any key.
    const hidden = hides && ("prefix" in hides ? hides.prefix : "");
    for (const segment of segments) {
      if (hides && hidden !== undefined) {
        for (const key of [...segment.keysStartingWith(hidden)]) if (hides(key)) segment.markGone(key);
      }
      for (const key of this.overlay.keys()) segment.markGone(key);
    }
    this.showListed(segments);
    this.complete = true;
    return true;
  }

  /** Every segment's parts, gone marks included: what a snapshot saves. */
  segmentParts(): SegmentParts[] {
    return this.segments.map((segment) => segment.parts());
  }

  private visible<T extends readonly ListedObject[]>(objects: T): T | ListedObject[] {
    const hides = this.options.hides;
    return hides ? objects.filter((object) => !hides(object.key)) : objects;
  }

  /** Every indexed file not known to be gone: what a snapshot saves. */
  *entries(): Generator<ListedObject> {
    for (const segment of this.segments) yield* segment.entries();
  }

  /** Indexed keys that start with `prefix`, segment by segment: how a long key's option value is found again. */
  *keysStartingWith(prefix: string): Generator<string> {
    for (const segment of this.segments) yield* segment.keysStartingWith(prefix);
  }

  get files(): number {
    return this.segments.reduce((sum, segment) => sum + segment.files, 0);
  }

  status(): IndexStatus {
    return {
      files: this.files,
      complete: this.complete,
      refreshedAt: this.lastBuild?.finishedAt,
      building: this.current !== undefined,
      lastBuild: this.lastBuild,
      lastError: this.lastError,
      bytes: this.segments.reduce((sum, segment) => sum + segment.bytes, 0),
      segments: this.segments.length,
    };
  }

  search(query: string, prefixes: readonly string[], limit: number): SearchResult {
    const current = this.current;
    if (
      current?.progressive &&
      current.builder.pendingCount > 0 &&
      Date.now() - current.builder.lastSealAt >= this.sealIntervalMs
    ) {
      current.builder.seal();
    }
    return {
      files: searchSegments(this.segments, query, prefixes, limit, this.rangeCache),
      partial: !this.complete,
    };
  }
}
