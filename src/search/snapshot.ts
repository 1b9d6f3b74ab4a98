import { createHash } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import { Segment, type SegmentParts, WIDE } from "./file-index.js";

/**
 * The bucket index on disk or in S3, so that a starting process answers complete searches at once.
 *
 *   "HNDTIDX\0" | version (u32 BE) | SHA-256 of the rest | payload
 *   payload: header length (u32 BE) | header (JSON) | each segment's parts
 *
 * A segment's parts are its built arrays (little-endian, each padded to 8 bytes) and texts (Latin-1
 * when every character fits, else UTF-16LE), in `ARRAYS` then `TEXTS` order, so that loading copies
 * them instead of sorting and packing a million keys again. The header gives each one's byte length.
 * The checksum covers what follows it, so a torn or tampered file is refused before it is read; parts
 * that do not fit together are refused after. The payload is not compressed: at a million keys gzip
 * (even at level 1) took 2.2 s to write and 1.4 s to read for 42 MB instead of 156 MB, and reading is
 * what a starting process waits for.
 */
export const SNAPSHOT_VERSION = 3;
const MAGIC = Buffer.from("HNDTIDX\0", "latin1");
const FRAME = MAGIC.length + 4 + 32;

const ARRAYS = {
  dirNameStarts: Uint32Array,
  dirTextStarts: Uint32Array,
  dirOf: Uint32Array,
  nameStarts: Uint32Array,
  textStarts: Uint32Array,
  byName: Uint32Array,
  byNameLength: Uint16Array,
  sizes: Uint32Array,
  sizesHigh: Uint16Array,
  times: Float64Array,
  byKey: Uint32Array,
  keyRank: Uint32Array,
  pairFilter: Uint32Array,
  stops: Uint32Array,
  dirStops: Uint32Array,
  gone: Uint8Array,
} as const;
type ArrayName = keyof typeof ARRAYS;
const ARRAY_NAMES = Object.keys(ARRAYS) as ArrayName[];
const TEXTS = ["dirNames", "dirText", "names", "text"] as const;
type TextName = (typeof TEXTS)[number];

/** Where one segment's parts lie in the payload. */
interface SegmentLayout {
  readonly count: number;
  /** Byte length of each array (`gone`: 0 when no file is gone). */
  readonly arrays: Record<ArrayName, number>;
  /** Byte length and encoding of each text. */
  readonly texts: Record<TextName, { readonly bytes: number; readonly wide: boolean }>;
}

export interface SnapshotHeader {
  /** The store the index is of: `s3://bucket`, or `file:///folder` for the embedded default. */
  readonly bucket: string;
  /** The covering prefixes the listing was of (`""` for the whole bucket). */
  readonly roots: readonly string[];
  /** When the listing that made it finished, in milliseconds since the epoch. */
  readonly listedAt: number;
  /** Files in it, gone ones included. */
  readonly count: number;
  readonly segments: readonly SegmentLayout[];
}

export interface Snapshot {
  readonly header: SnapshotHeader;
  readonly segments: Segment[];
}

/** Why a snapshot was not used: a log line says it, and Handout lists the bucket instead. */
export class SnapshotRejected extends Error {}

const padding = (length: number): number => (8 - (length % 8)) % 8;

/**
 * A snapshot ready to be written: its length, and its bytes in pieces. A million keys make 156 MB,
 * which held whole beside the index it copies was a third of the process's memory after a listing.
 */
export interface SnapshotBody {
  readonly byteLength: number;
  /**
   * The bytes in order, in buffers of `size` bytes (a few MB unless given) but the last; each call
   * starts again from the first.
   */
  chunks(size?: number): AsyncGenerator<Uint8Array>;
}

/** About 8 ms of hashing, or of copying a few pieces, between turns of the event loop. */
const BYTES_PER_TURN = 4 * 2 ** 20;
const ZEROS = new Uint8Array(8);

/** The payload's pieces in order: views of the arrays, each text encoded, and the zeros between. */
function* payloadPieces(
  headerBytes: Buffer,
  segments: readonly SegmentParts[],
  layouts: readonly SegmentLayout[],
): Generator<Uint8Array> {
  let at = 0;
  function* piece(bytes: Uint8Array): Generator<Uint8Array> {
    if (bytes.length > 0) yield bytes;
    at += bytes.length;
    const zeros = padding(at);
    if (zeros > 0) yield ZEROS.subarray(0, zeros);
    at += zeros;
  }
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  yield length;
  at += 4;
  yield* piece(headerBytes);
  for (const [i, parts] of segments.entries()) {
    const layout = layouts[i] as SegmentLayout;
    for (const name of ARRAY_NAMES) {
      const values = parts[name];
      yield* piece(
        values ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : ZEROS.subarray(0, 0),
      );
    }
    for (const name of TEXTS) {
      const { bytes, wide } = layout.texts[name];
      const encoded = Buffer.from(parts[name], wide ? "utf16le" : "latin1");
      if (encoded.length !== bytes) throw new Error(`a segment's ${name} did not encode to its length`);
      yield* piece(encoded);
    }
  }
}

/**
 * Lays out and checksums the index's snapshot, a segment at a time, yielding to the event loop between
 * slices of the work: at a million keys it takes over a second, which in one stretch would hold up
 * every Slack request for that time, after every complete listing. The bytes are made again as they
 * are written (`chunks`), so the snapshot is never whole in memory; the parts are the index's own,
 * which do not change, and a copy of the gone marks, which do.
 */
export async function snapshotBody(
  info: Omit<SnapshotHeader, "count" | "segments">,
  indexParts: readonly SegmentParts[],
): Promise<SnapshotBody> {
  const segments = indexParts.map((parts) => ({ ...parts, gone: parts.gone?.slice() }));
  const layouts: SegmentLayout[] = [];
  for (const parts of segments) {
    await setImmediate();
    const arrays = {} as Record<ArrayName, number>;
    for (const name of ARRAY_NAMES) arrays[name] = parts[name]?.byteLength ?? 0;
    const texts = {} as Record<TextName, { bytes: number; wide: boolean }>;
    for (const name of TEXTS) {
      const wide = WIDE.test(parts[name]);
      texts[name] = { bytes: parts[name].length * (wide ? 2 : 1), wide };
    }
    layouts.push({ count: parts.count, arrays, texts });
  }
  const header: SnapshotHeader = {
    ...info,
    roots: [...info.roots],
    count: layouts.reduce((sum, layout) => sum + layout.count, 0),
    segments: layouts,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const padded = (length: number) => length + padding(length);
  let payload = padded(4 + headerBytes.length);
  for (const layout of layouts) {
    for (const name of ARRAY_NAMES) payload += padded(layout.arrays[name]);
    for (const name of TEXTS) payload += padded(layout.texts[name].bytes);
  }
  const hash = createHash("sha256");
  let hashed = 0;
  let sinceTurn = 0;
  for (const piece of payloadPieces(headerBytes, segments, layouts)) {
    hash.update(piece);
    hashed += piece.length;
    sinceTurn += piece.length;
    if (sinceTurn >= BYTES_PER_TURN) {
      sinceTurn = 0;
      await setImmediate();
    }
  }
  if (hashed !== payload) throw new Error("the snapshot's parts did not fill it");
  const frame = Buffer.alloc(FRAME);
  MAGIC.copy(frame);
  frame.writeUInt32BE(SNAPSHOT_VERSION, MAGIC.length);
  hash.digest().copy(frame, MAGIC.length + 4);
  const byteLength = FRAME + payload;
  return {
    byteLength,
    async *chunks(size = BYTES_PER_TURN) {
      // Each chunk a buffer of its own, which a writer may keep (an SDK resends a part it retries).
      let chunk = Buffer.allocUnsafe(Math.min(size, byteLength));
      let filled = 0;
      let left = byteLength;
      // One piece at a time: the texts are encoded as they are reached, not all at once.
      const pieces = function* () {
        yield frame;
        yield* payloadPieces(headerBytes, segments, layouts);
      };
      for (const piece of pieces()) {
        for (let at = 0; at < piece.length; ) {
          if (chunk.length === 0) throw new Error("the snapshot's parts overfill it");
          const taken = Math.min(chunk.length - filled, piece.length - at);
          chunk.set(piece.subarray(at, at + taken), filled);
          filled += taken;
          at += taken;
          if (filled === chunk.length) {
            yield chunk;
            left -= chunk.length;
            chunk = Buffer.allocUnsafe(Math.min(size, left));
            filled = 0;
            await setImmediate();
          }
        }
      }
      if (left !== 0) throw new Error("the snapshot's parts did not fill it");
    },
  };
}

/** The whole snapshot in one buffer: for a store that must send it at once, and for tests. */
export async function snapshotBytes(body: SnapshotBody): Promise<Buffer> {
  for await (const whole of body.chunks(body.byteLength)) return whole as Buffer;
  throw new Error("the snapshot is empty");
}

/** Encodes the index into one buffer (see `snapshotBody`). */
export async function encodeSnapshot(
  info: Omit<SnapshotHeader, "count" | "segments">,
  segments: readonly SegmentParts[],
): Promise<Buffer> {
  return snapshotBytes(await snapshotBody(info, segments));
}

const isLength = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 0;

function parseHeader(text: string): SnapshotHeader {
  const header = JSON.parse(text) as Partial<SnapshotHeader>;
  if (
    typeof header.bucket !== "string" ||
    !Array.isArray(header.roots) ||
    !header.roots.every((root) => typeof root === "string") ||
    typeof header.listedAt !== "number" ||
    !isLength(header.count) ||
    !Array.isArray(header.segments) ||
    !header.segments.every(
      (layout: Partial<SegmentLayout>) =>
        isLength(layout?.count) &&
        ARRAY_NAMES.every((name) => isLength(layout.arrays?.[name])) &&
        TEXTS.every(
          (name) => isLength(layout.texts?.[name]?.bytes) && typeof layout.texts?.[name]?.wide === "boolean",
        ),
    )
  ) {
    throw new SnapshotRejected("its header is not a snapshot header");
  }
  return header as SnapshotHeader;
}

/** The segments the payload holds from `at` on, as `header` lays them out. */
function readSegments(payload: Buffer, at: number, header: SnapshotHeader): Segment[] {
  const segments: Segment[] = [];
  const take = (bytes: number): Buffer => {
    if (at + bytes > payload.length) throw new SnapshotRejected("it is shorter than its header says");
    const part = payload.subarray(at, at + bytes);
    at += bytes + padding(bytes);
    return part;
  };
  for (const layout of header.segments) {
    const arrays = {} as Record<ArrayName, ArrayBufferView>;
    for (const name of ARRAY_NAMES) {
      const type = ARRAYS[name];
      const bytes = take(layout.arrays[name]);
      if (bytes.length % type.BYTES_PER_ELEMENT !== 0) throw new SnapshotRejected(`its ${name} is cut short`);
      // A copy: the payload's offsets need not suit the array's alignment, and it frees the payload.
      const values = new type(bytes.length / type.BYTES_PER_ELEMENT);
      Buffer.from(values.buffer).set(bytes);
      arrays[name] = values;
    }
    const texts = {} as Record<TextName, string>;
    for (const name of TEXTS) {
      const { bytes, wide } = layout.texts[name];
      if (wide && bytes % 2 !== 0) throw new SnapshotRejected(`its ${name} is cut short`);
      texts[name] = take(bytes).toString(wide ? "utf16le" : "latin1");
    }
    const gone = arrays.gone as Uint8Array;
    try {
      segments.push(
        Segment.fromParts({
          ...(arrays as unknown as Omit<SegmentParts, "count" | TextName | "gone">),
          ...texts,
          count: layout.count,
          gone: gone.length === 0 ? undefined : gone,
        }),
      );
    } catch (error) {
      if (error instanceof RangeError)
        throw new SnapshotRejected(`its parts do not fit together (${error.message})`);
      throw error;
    }
  }
  if (at < payload.length) throw new SnapshotRejected("it is longer than its header says");
  return segments;
}

/**
 * Reads a snapshot made for this store and these roots. Throws `SnapshotRejected`, saying why, for one
 * that is damaged, of another version, or of another bucket or other prefixes.
 */
export async function decodeSnapshot(
  bytes: Uint8Array,
  expected: { bucket: string; roots: readonly string[] },
): Promise<Snapshot> {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < FRAME || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SnapshotRejected("it is not a Handout index snapshot");
  }
  const version = data.readUInt32BE(MAGIC.length);
  if (version !== SNAPSHOT_VERSION) {
    throw new SnapshotRejected(
      version < SNAPSHOT_VERSION
        ? `it is of an old format (version ${version}), and this Handout reads ${SNAPSHOT_VERSION}`
        : `it is of format version ${version}, and this Handout reads ${SNAPSHOT_VERSION}`,
    );
  }
  const body = data.subarray(FRAME);
  const sum = createHash("sha256").update(body).digest();
  if (!sum.equals(data.subarray(MAGIC.length + 4, FRAME))) {
    throw new SnapshotRejected("its checksum does not match its contents (it is damaged or incomplete)");
  }
  let payload: Buffer;
  let header: SnapshotHeader;
  let at: number;
  try {
    payload = body;
    const headerLength = payload.readUInt32BE(0);
    header = parseHeader(payload.toString("utf8", 4, 4 + headerLength));
    at = 4 + headerLength;
    at += padding(at);
  } catch (error) {
    if (error instanceof SnapshotRejected) throw error;
    throw new SnapshotRejected(`it cannot be read (${(error as Error).message})`);
  }
  if (header.bucket !== expected.bucket) {
    throw new SnapshotRejected(`it is of ${header.bucket}, not ${expected.bucket}`);
  }
  if (header.roots.join("\n") !== expected.roots.join("\n")) {
    throw new SnapshotRejected(
      `it covers other folders (${describeRoots(header.roots)}) than the policy grants (${describeRoots(expected.roots)})`,
    );
  }
  if (header.count !== header.segments.reduce((sum, layout) => sum + layout.count, 0)) {
    throw new SnapshotRejected("its segments hold another number of files than its header says");
  }
  return { header, segments: readSegments(payload, at, header) };
}

const describeRoots = (roots: readonly string[]): string =>
  roots.length === 0 ? "none" : roots.map((root) => (root === "" ? "the whole bucket" : root)).join(", ");

/** Where a snapshot is kept: a local file, or one object in S3. */
export interface SnapshotStore {
  /** For log lines: `s3://bucket/key` or the file's path. */
  readonly description: string;
  /** The stored bytes, or undefined when there is no snapshot yet. */
  read(): Promise<Uint8Array | undefined>;
  /** Replaces the snapshot whole: a reader sees the old one or the new one, never a mix. */
  write(body: SnapshotBody): Promise<void>;
}
