import type { Readable } from "node:stream";
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { HandoutError } from "../domain/errors.js";
import { abortableSleep, type ListPage, type PageSource } from "../search/lister.js";
import { type ListObjectsV2Page, parseListObjectsV2 } from "./list-objects-xml.js";

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

// With encoding-type=url S3 form-encodes keys (a space is `+`, a `+` is `%2B`) so that any key survives XML.
const decodeListed = (text: string): string => {
  const spaced = text.includes("+") ? text.replaceAll("+", " ") : text;
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
};

function toPage(page: ListObjectsV2Page): ListPage {
  // Stores that ignore encoding-type (s3rver, some gateways) answer raw keys and do not echo it.
  if (page.encodingType === "url") {
    for (const entry of page.contents) (entry as { key: string }).key = decodeListed(entry.key);
  }
  return {
    objects: page.contents,
    folders: page.encodingType === "url" ? page.commonPrefixes.map(decodeListed) : page.commonPrefixes,
    continuationToken: page.isTruncated ? page.nextContinuationToken : undefined,
  };
}

async function readBody(body: unknown): Promise<string> {
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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
        page = parseListObjectsV2(await readBody(response.body));
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
  return {
    contents: (output.Contents ?? []).flatMap((object) =>
      object.Key === undefined
        ? []
        : [{ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 }],
    ),
    commonPrefixes: (output.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix])),
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
