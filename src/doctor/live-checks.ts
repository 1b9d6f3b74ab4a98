import type { LinkSigner } from "../domain/ports.js";
import { resourceUrl } from "../signing/cloudfront-signer.js";
import { type CheckResult, failed, passed } from "./check.js";

export interface LiveTarget {
  readonly domain: string;
  readonly scheme: "https" | "http";
  /** A file that exists in the bucket. */
  readonly key: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}

/** The usual reasons CloudFront answers 403 to a signed link. */
export type Cause = "keyGroup" | "deploying" | "publicKey" | "bucketPolicy" | "kms" | "origin";

const CAUSES: Record<Cause, string> = {
  keyGroup: "the key ID is not in the trusted key group of the behaviour serving this path",
  deploying: "the key group or distribution change is still deploying (wait until the status is Deployed)",
  publicKey: "the public key registered under this ID is not this private key's",
  bucketPolicy: "the bucket policy does not let this distribution's origin access control s3:GetObject",
  kms: "the files are encrypted with SSE-KMS and the KMS key policy does not allow kms:Decrypt to cloudfront.amazonaws.com",
  origin: "the origin is not the bucket's REST endpoint with origin access control",
};
const SIGNATURE_CAUSES: readonly Cause[] = ["keyGroup", "deploying", "publicKey"];
const ORIGIN_CAUSES: readonly Cause[] = ["bucketPolicy", "kms", "origin"];

/** What earlier checks found, by cause, in their own words: it replaces the general wording, and goes first. */
export type SignedLinkHints = Partial<Record<Cause, string | undefined>>;

interface Answer {
  readonly status: number;
  /** CloudFront passes the origin's headers on: these say the bucket, not CloudFront, refused. */
  readonly fromS3: boolean;
  /** The `<Code>` and `<Message>` of an XML error body, if there was one. */
  readonly reason: string | undefined;
}

const SIGNED = "Signed link";
const UNSIGNED = "Unsigned link";

/** GETs the first byte only: enough to see the answer without downloading the file. */
async function get(target: LiveTarget, url: string): Promise<Answer> {
  const response = await target.fetch(url, {
    headers: { range: "bytes=0-0" },
    redirect: "manual",
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  const body = response.status >= 400 ? (await response.text()).slice(0, 2000) : "";
  if (response.status < 400) await response.body?.cancel();
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(body)?.[1];
  return {
    status: response.status,
    fromS3: response.headers.get("server") === "AmazonS3" || response.headers.has("x-amz-request-id"),
    reason: code || message ? [code, message].filter(Boolean).join(": ") : undefined,
  };
}

/** Why a request never got an answer, without the URL (which would carry the signature). */
const unreachable = (error: unknown, target: LiveTarget): string => {
  const name = (error as { name?: string }).name;
  if (name === "TimeoutError") return `no answer within ${target.timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? name ?? "the request failed";
};

/** A link signed the way Handout signs answers 200 (or 206 to the range asked) through the distribution. */
export async function checkSignedLink(
  target: LiveTarget,
  signer: LinkSigner,
  now: Date,
  hints: SignedLinkHints,
): Promise<CheckResult> {
  const link = signer.sign(target.key, { expiresAt: new Date(now.getTime() + 10 * 60_000) });
  let answer: Answer;
  try {
    answer = await get(target, link.url);
  } catch (error) {
    return failed(
      SIGNED,
      `GET ${target.key} through ${target.domain}: ${unreachable(error, target)}`,
      "Check CLOUDFRONT_DOMAIN and the network; a new distribution can take a few minutes to answer.",
    );
  }
  if (answer.status === 200 || answer.status === 206) {
    return passed(SIGNED, `GET ${target.key} answered ${answer.status}`);
  }
  const said = answer.reason ? ` (${answer.reason})` : "";
  const from = answer.fromS3 ? ", from the bucket" : "";
  const detail = `GET ${target.key} with a fresh signature answered ${answer.status}${from}${said}`;
  if (answer.status === 403) {
    // What earlier checks found comes first; then the usual causes, the bucket's first when it refused.
    const usual = answer.fromS3
      ? [...ORIGIN_CAUSES, ...SIGNATURE_CAUSES]
      : [...SIGNATURE_CAUSES, ...ORIGIN_CAUSES];
    const causes = [
      ...usual.flatMap((cause) => hints[cause] ?? []),
      ...usual.filter((cause) => hints[cause] === undefined).map((cause) => CAUSES[cause]),
    ];
    return failed(SIGNED, detail, `Likely causes, most likely first: ${causes.join("; ")}.`);
  }
  if (answer.status === 404) {
    return failed(
      SIGNED,
      detail,
      "The distribution did not find a file the bucket holds: check that its origin is HANDOUT_BUCKET with no origin path, and that the behaviour serving this path uses that origin.",
    );
  }
  return failed(
    SIGNED,
    detail,
    "Check the distribution's status and its origin in the CloudFront console, then run the doctor again.",
  );
}

/** The same file without a signature is refused: the distribution does not hand files to anyone. */
export async function checkUnsignedLink(target: LiveTarget): Promise<CheckResult> {
  let answer: Answer;
  try {
    answer = await get(target, resourceUrl(target.scheme, target.domain, target.key));
  } catch (error) {
    return failed(
      UNSIGNED,
      `GET ${target.key} through ${target.domain}: ${unreachable(error, target)}`,
      "Check CLOUDFRONT_DOMAIN and the network; a new distribution can take a few minutes to answer.",
    );
  }
  if (answer.status === 403) return passed(UNSIGNED, `GET ${target.key} without a signature answered 403`);
  if (answer.status >= 200 && answer.status < 300) {
    return failed(
      UNSIGNED,
      `GET ${target.key} without a signature answered ${answer.status}: anyone with the address can download it`,
      "On every behaviour that serves the bucket, set Restrict viewer access → Yes → Trusted key groups.",
    );
  }
  return failed(
    UNSIGNED,
    `GET ${target.key} without a signature answered ${answer.status}, not 403`,
    "On the behaviour that serves the bucket, set Restrict viewer access → Yes → Trusted key groups, and check its origin.",
  );
}
