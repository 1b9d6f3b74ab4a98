import type { Readable } from "node:stream";
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { HandoutError } from "../domain/errors.js";
import { abortableSleep, type ListPage, type PageSource } from "../search/lister.js";
import { decodeFormEncoded, type ListObjectsV2Page, parseListObjectsV2 } from "./list-objects-xml.js";

export interface RetryOptions {
  /** Attempts per request, the first included. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (error: unknown): string => (error as { name?: string }).name ?? "";

const THROTTLED = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "RequestLimitExceeded",
]);

/** S3 asks for fewer requests with SlowDown (503); S3-compatible stores and proxies also answer 429. */
export const isThrottling = (error: unknown): boolean =>
  THROTTLED.has(nameOf(error)) || statusOf(error) === 503 || statusOf(error) === 429;

// S3 documents 500 InternalError as retryable; a request that got no answer at all may be retried too.
const isTransient = (error: unknown): boolean => {
  const status = statusOf(error);
  if (status === undefined) return nameOf(error) !== "AbortError";
  return status === 500 || nameOf(error) === "InternalError" || nameOf(error) === "RequestTimeout";
};

const toPage = (page: ListObjectsV2Page): ListPage => ({
  objects: page.contents,
  folders: page.commonPrefixes,
  continuationToken: page.isTruncated ? page.nextContinuationToken : undefined,
});

/**
 * Where a page's chunks are put together to be read: kept from page to page, as the reader copies out
 * everything it keeps, so that a listing does not allocate (and collect) a quarter of a megabyte a page.
 */
let joined = Buffer.allocUnsafeSlow(0);

/** Reads `chunks` as one answer. Synchronous from the copy to the end of reading: `joined` is shared. */
function parseChunks(chunks: readonly Buffer[], length: number): ListObjectsV2Page {
  if (chunks.length === 1) return parseListObjectsV2(chunks[0] as Buffer);
  if (joined.length < length) joined = Buffer.allocUnsafeSlow(Math.max(length, 2 * joined.length));
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(joined, at);
  return parseListObjectsV2(joined.subarray(0, length));
}

/** A successful answer's body, read and parsed; a body that ends early or fails rejects. */
function readListing(body: unknown): Promise<ListObjectsV2Page> {
  if (body instanceof Uint8Array) return Promise.resolve(parseListObjectsV2(body));
  const stream = body as Readable;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      chunks.push(bytes);
      length += bytes.length;
    };
    const onEnd = () => {
      done();
      try {
        resolve(parseChunks(chunks, length));
      } catch (error) {
        reject(error);
      }
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    // Closed before its end without an error of its own: a transient failure, retried as one.
    const onClose = () => {
      done();
      reject(new Error("The store's ListObjectsV2 answer was cut off before its end."));
    };
    const done = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    stream.once("close", onClose);
  });
}

interface RawResponse {
  statusCode?: number;
  body?: unknown;
}

/**
 * Sends a ListObjectsV2 request through the client (signing, endpoints, retries and error answers as
 * the SDK does them) but reads a successful answer's XML with the lean reader: innermost in the
 * deserialize step, it takes the body before the SDK's deserializer, which then reads an empty one.
 */
async function sendListing(
  client: S3Client,
  command: ListObjectsV2Command,
  signal: AbortSignal | undefined,
): Promise<ListObjectsV2Page> {
  let page: ListObjectsV2Page | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300 && response.body !== undefined) {
        page = await readListing(response.body);
        response.body = new Uint8Array(0);
      }
      return result;
    },
    { step: "deserialize", priority: "low", name: "handoutLeanListing" },
  );
  const output = await client.send(command, { abortSignal: signal });
  // A client whose `send` never reached the wire (a test double) answers typed output.
  return page ?? fromOutput(output);
}

function fromOutput(output: ListObjectsV2CommandOutput): ListObjectsV2Page {
  // Stores that ignore encoding-type (s3rver, some gateways) answer raw keys and do not echo it.
  const decode = output.EncodingType === "url" ? decodeFormEncoded : (text: string) => text;
  return {
    contents: (output.Contents ?? []).flatMap((object) =>
      object.Key === undefined
        ? []
        : [
            {
              key: decode(object.Key),
              size: object.Size ?? 0,
              lastModified: object.LastModified?.getTime() ?? 0,
            },
          ],
    ),
    commonPrefixes: (output.CommonPrefixes ?? []).flatMap((p) =>
      p.Prefix === undefined ? [] : [decode(p.Prefix)],
    ),
    isTruncated: output.IsTruncated === true,
    nextContinuationToken: output.NextContinuationToken,
    encodingType: output.EncodingType,
  };
}

function listingFailure(bucket: string, error: unknown, attempts: number): HandoutError {
  const status = statusOf(error);
  const name = nameOf(error);
  if (status === 403 || name === "AccessDenied") {
    return new HandoutError(
      "STORAGE_UNAVAILABLE",
      `Listing s3://${bucket} was denied: allow s3:ListBucket on arn:aws:s3:::${bucket} (Handout lists the bucket to search it).`,
      { cause: error },
    );
  }
  if (name === "NoSuchBucket" || status === 404) {
    return new HandoutError(
      "STORAGE_UNAVAILABLE",
      `The bucket ${bucket} does not exist: check HANDOUT_BUCKET and AWS_REGION.`,
      { cause: error },
    );
  }
  if (isThrottling(error)) {
    return new HandoutError(
      "STORAGE_UNAVAILABLE",
      `S3 kept throttling the listing of s3://${bucket} (${name || status}) after ${attempts} attempts: the index will retry later; if it persists, lower the listing concurrency or spread the bucket's load.`,
      { cause: error },
    );
  }
  return new HandoutError(
    "STORAGE_UNAVAILABLE",
    `Could not list s3://${bucket} (${name || status || "no answer"}) after ${attempts} attempt${attempts === 1 ? "" : "s"}: check the network, AWS_REGION and credentials.`,
    { cause: error },
  );
}

/**
 * Pages of a ListObjectsV2 listing, retried with exponential back-off and jitter on throttling and
 * transient failures. Throttling pauses every request of this source, not only the throttled one:
 * S3 asks the client as a whole to slow down.
 */
export function s3PageSource(client: S3Client, bucket: string, options: RetryOptions = {}): PageSource {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  let resumeAt = 0;

  return {
    async listPage(request, signal) {
      for (let attempt = 1; ; attempt++) {
        const wait = resumeAt - now();
        if (wait > 0) await sleep(wait, signal);
        try {
          const command = new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: request.prefix === "" ? undefined : request.prefix,
            Delimiter: request.delimited ? "/" : undefined,
            StartAfter: request.continuationToken ? undefined : request.startAfter,
            ContinuationToken: request.continuationToken,
            EncodingType: "url",
          });
          return toPage(await sendListing(client, command, signal));
        } catch (error) {
          if (signal?.aborted) throw error;
          const throttled = isThrottling(error);
          if (!(throttled || isTransient(error)) || attempt >= maxAttempts) {
            throw listingFailure(bucket, error, attempt);
          }
          // "Equal jitter": never less than half the exponential delay, so a throttled store gets real rest.
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          const delay = ceiling / 2 + (random() * ceiling) / 2;
          if (throttled) resumeAt = Math.max(resumeAt, now() + delay);
          await sleep(delay, signal);
        }
      }
    },
  };
}
