import * as z from "zod";
import { parseDuration } from "../domain/duration.js";
import { HandoutError } from "../domain/errors.js";

/** The hash links are signed with (HANDOUT_SIGNATURE_ALGORITHM, SHA1 unless set). */
export type SignatureAlgorithm = "SHA1" | "SHA256";

export type KeySourceSetting = { kind: "secret"; secretId: string } | { kind: "file"; path: string };

/** How links are signed, in either mode: the hash, and how long a loaded key is used before it is read again. */
export interface SignatureSettings {
  readonly algorithm: SignatureAlgorithm;
  readonly keyMaxAgeSeconds: number;
}

/** CloudFront: the distribution links point at, and where its private key is kept. */
export interface SigningSettings {
  readonly domain: string;
  /** Unset only when the secret is expected to carry the key ID itself. */
  readonly publicKeyId: string | undefined;
  readonly keySource: KeySourceSetting;
}

export interface BucketSettings {
  readonly name: string;
  readonly forcePathStyle: boolean;
}

export interface SlackSettings {
  readonly botToken: string;
  readonly appToken: string | undefined;
  readonly signingSecret: string | undefined;
  readonly apiUrl: string | undefined;
}

/** The embedded default: a local folder as the bucket, and Handout serving its own signed links. */
export interface LocalSettings {
  readonly mode: "local";
  readonly dir: string;
  /** Where Handout keeps the key pair it makes on first run. */
  readonly stateDir: string;
  /** The scheme and host[:port] that links start with, as people's browsers reach Handout. */
  readonly scheme: "http" | "https";
  readonly host: string;
}

/** S3 behind CloudFront: HANDOUT_BUCKET or CLOUDFRONT_DOMAIN is set. */
export interface AwsSettings<Bucket = BucketSettings, Signing = SigningSettings> {
  readonly mode: "aws";
  readonly bucket: Bucket;
  readonly signing: Signing;
}

/** What a server and `sign` run with: a local folder, or S3 and CloudFront both configured. */
export type StorageSettings = LocalSettings | AwsSettings;
/** The bucket without necessarily CloudFront: `index stats` lists a bucket and signs nothing. */
export type BucketStorageSettings = LocalSettings | AwsSettings<BucketSettings, SigningSettings | undefined>;
/** As far as set: for commands that need neither (audit, ledger, policy) and for the doctor. */
export type AnyStorageSettings =
  | LocalSettings
  | AwsSettings<BucketSettings | undefined, SigningSettings | undefined>;

/** Members-only links: the gate on Handout's own address, signing people in with Slack. */
export interface GateSettings {
  /** Where people's browsers reach Handout, no trailing slash: every members-only link starts with it. */
  readonly publicUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Signs session cookies; undefined only in the embedded default, which makes one and keeps it in the state folder. */
  readonly sessionSecret: string | undefined;
  /** The OpenID Connect issuer, compared as a string (Slack's is exactly https://slack.com). */
  readonly issuer: string;
}

/** Where the bucket index's snapshot is kept (HANDOUT_INDEX_SNAPSHOT): a local file, or a prefix in S3. */
export type SnapshotLocation =
  | { kind: "file"; path: string }
  | { kind: "s3"; bucket: string; prefix: string };

export type LedgerSetting = { kind: "sqlite"; path: string } | { kind: "dynamodb"; table: string };

export interface Config<Storage extends AnyStorageSettings = StorageSettings> {
  readonly port: number;
  readonly policyFile: string;
  /** The embedded default with HANDOUT_POLICY_FILE unset: a missing default file means the trial policy. */
  readonly trialPolicyAllowed: boolean;
  readonly logLevel: string;
  /** Unset: readable lines on a terminal, JSON elsewhere. */
  readonly logFormat: "json" | "pretty" | undefined;
  /** How often the file index re-lists the bucket: a rare consistency sweep when S3's events arrive. */
  readonly indexRefreshSeconds: number;
  /** Where the index is saved after each complete listing and loaded from at start; unset: nowhere. */
  readonly indexSnapshot: SnapshotLocation | undefined;
  /** Where S3's object events reach the index: an SQS queue a process reads, or Lambda invoked by the rule. */
  readonly indexEvents: { kind: "queue"; queueUrl: string } | { kind: "lambda" } | undefined;
  /** Where shares are recorded. */
  readonly ledger: LedgerSetting;
  /** The CloudFront KeyValueStore that the revocation function reads, when revocation at the edge is on. */
  readonly revocationStoreArn: string | undefined;
  /** How often expired links are looked for (their messages updated). */
  readonly expiryCheckSeconds: number;
  /** How long before an announcement's links expire its sharer is reminded; undefined: no reminders. */
  readonly announcementReminderSeconds: number | undefined;
  /** How long a shutdown waits for work already acknowledged to finish. */
  readonly shutdownGraceSeconds: number;
  /** How long Socket Mode may be without a connection before /healthz answers 503. */
  readonly socketDownLimitSeconds: number;
  readonly slack: SlackSettings | undefined;
  /** Some Slack setting is given: Slack is meant to be on, so what it still needs must be set too. */
  readonly slackRequested: boolean;
  readonly signature: SignatureSettings;
  /** Where the files are and how links reach them. */
  readonly storage: Storage;
  /** Undefined when HANDOUT_PUBLIC_URL is unset (or, in the embedded default, no Slack client is set): no members-only links. */
  readonly gate: GateSettings | undefined;
}

/**
 * What a command needs configured; anything else may be left unset. `storage`: `complete` wants S3 and
 * CloudFront both (unless neither is set: the local folder), `bucket` the bucket only, `as-set` nothing.
 * `slack`: `required`, or `if-set` (Slack's settings once any Slack variable is set: Slack is then meant
 * to be on).
 */
export interface Needs {
  readonly storage?: "complete" | "bucket" | "as-set";
  readonly slack?: "required" | "if-set";
}

/** What a server needs: the bucket and signing settings (or the local folder), and Slack's if any is set. */
export const SERVER_NEEDS = { storage: "complete", slack: "if-set" } as const satisfies Needs;

export class ConfigError extends HandoutError {
  constructor(readonly problems: readonly string[]) {
    super(
      "CONFIG_INVALID",
      [
        `Handout is not configured correctly (${problems.length === 1 ? "1 problem" : `${problems.length} problems`}):`,
        ...problems.map((problem) => `  - ${problem}`),
      ].join("\n"),
    );
  }
}

// An empty variable counts as unset, as it does for most tools.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

/** Timers cannot wait longer than about 24.8 days: Node runs a longer one at once, over and over. */
const MAX_INTERVAL_SECONDS = 24 * 86_400;

const interval = (example: string) =>
  z
    .string()
    .refine((v) => parseDuration(v) !== undefined, {
      message: `must be a duration such as ${example}`,
      abort: true,
    })
    .refine((v) => (parseDuration(v) as number) <= MAX_INTERVAL_SECONDS, "must be at most 24d");

/** A CloudFront public key ID (`K…`; `APKA…` for the legacy key pairs of an account's root user). */
export const CLOUDFRONT_KEY_ID = /^(K|APKA)[A-Z0-9]{5,}$/;

/** `8s`, or a duration such as `2m`; seconds, up to `maxSeconds`. */
const seconds = (text: string): number | undefined => {
  const match = /^(\d{1,6})\s*s$/.exec(text.trim().toLowerCase());
  return match ? Number(match[1]) : parseDuration(text);
};

const secondsSetting = (example: string, maxSeconds: number, maxText: string) =>
  z
    .string()
    .refine((v) => seconds(v) !== undefined, {
      message: `must be a number of seconds or a duration such as ${example}`,
      abort: true,
    })
    .refine((v) => (seconds(v) as number) <= maxSeconds, `must be at most ${maxText}`);

// Messages name the variable and the fix and never repeat a value: some of these are secrets.
const envSchema = z.object({
  SLACK_BOT_TOKEN: optional(
    z
      .string()
      .startsWith("xoxb-", "must be a bot token starting with xoxb- (Slack app → OAuth & Permissions)"),
  ),
  SLACK_APP_TOKEN: optional(
    z
      .string()
      .startsWith(
        "xapp-",
        "must be an app-level token starting with xapp- (Slack app → Basic Information → App-Level Tokens)",
      ),
  ),
  SLACK_SIGNING_SECRET: optional(
    z
      .string()
      .regex(/^\S+$/, "must be the app's signing secret (Slack app → Basic Information), with no spaces"),
  ),
  SLACK_API_URL: optional(
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://slack.com/api/" }),
  ),
  PORT: optional(
    z
      .string()
      .regex(/^\d{1,5}$/, "must be a port number such as 3000")
      .refine((v) => Number(v) < 65536, "must be a port number from 0 (any free port) to 65535"),
  ),
  HANDOUT_BUCKET: optional(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "must be an S3 bucket name (3–63 lower-case letters, digits, dots and hyphens), not an ARN or URL",
      ),
  ),
  HANDOUT_S3_FORCE_PATH_STYLE: optional(z.enum(["true", "false"], "must be true or false")),
  CLOUDFRONT_DOMAIN: optional(
    z
      .string()
      .refine((v) => !/^[a-z]+:\/\//i.test(v), {
        message: "must be the domain only, without https:// (for example d111111abcdef8.cloudfront.net)",
        abort: true,
      })
      .refine(
        (v) => /^[a-z0-9.-]+(:\d{1,5})?$/i.test(v),
        "must be a domain such as d111111abcdef8.cloudfront.net, with no path",
      ),
  ),
  CLOUDFRONT_PUBLIC_KEY_ID: optional(
    z
      .string()
      .regex(
        CLOUDFRONT_KEY_ID,
        "must be a CloudFront public key ID such as K2JCJMDEHXQW5F (CloudFront → Public keys)",
      ),
  ),
  CLOUDFRONT_PRIVATE_KEY_SECRET_ID: optional(z.string()),
  CLOUDFRONT_PRIVATE_KEY_FILE: optional(z.string()),
  HANDOUT_SIGNATURE_ALGORITHM: optional(z.enum(["SHA1", "SHA256"], "must be SHA1 or SHA256")),
  HANDOUT_KEY_MAX_AGE: optional(interval("5m or 1h")),
  HANDOUT_INDEX_REFRESH: optional(interval("10m or 1h")),
  HANDOUT_INDEX_SNAPSHOT: optional(
    z
      .string()
      .refine(
        (v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || SNAPSHOT_S3.test(v),
        "must be a local file path or s3://BUCKET/PREFIX (for example s3://my-bucket/handout-index)",
      ),
  ),
  HANDOUT_INDEX_QUEUE_URL: optional(
    z
      .string()
      .regex(
        /^https?:\/\/[^\s/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}$/,
        "must be an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/handout-index",
      ),
  ),
  HANDOUT_INDEX_EVENTS: optional(
    z.enum(
      ["eventbridge"],
      "must be eventbridge (an EventBridge rule invokes Handout on AWS Lambda), or unset",
    ),
  ),
  HANDOUT_POLICY_FILE: optional(z.string()),
  HANDOUT_LOCAL_DIR: optional(z.string()),
  HANDOUT_STATE_DIR: optional(z.string()),
  HANDOUT_PUBLIC_URL: optional(
    z
      .string()
      .regex(
        /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/,
        "must be the address people reach Handout at, such as http://localhost:3000 (no path)",
      ),
  ),
  SLACK_CLIENT_ID: optional(
    z
      .string()
      .regex(
        /^\d+\.\d+$/,
        "must be the Slack app's client ID (Basic Information → App Credentials), such as 1234567890.1234567890",
      ),
  ),
  SLACK_CLIENT_SECRET: optional(
    z.string().min(8, "must be the Slack app's client secret (Basic Information → App Credentials)"),
  ),
  HANDOUT_SESSION_SECRET: optional(
    z
      .string()
      .min(
        32,
        "must be at least 32 characters of random text, such as the output of openssl rand -base64 32",
      ),
  ),
  SLACK_OIDC_ISSUER: optional(
    z
      .string()
      .regex(
        /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
        "must be the OpenID Connect issuer, such as https://slack.com",
      ),
  ),
  HANDOUT_LEDGER: optional(
    z
      .string()
      .regex(
        /^(sqlite:.+|dynamodb:[A-Za-z0-9_.-]{3,255})$/,
        "must be sqlite:PATH (for example sqlite:./handout.db) or dynamodb:TABLE",
      ),
  ),
  HANDOUT_REVOCATION_KVS_ARN: optional(
    z
      .string()
      .regex(
        /^arn:aws[a-z-]*:cloudfront::\d{12}:key-value-store\/[A-Za-z0-9-]+$/,
        "must be a CloudFront KeyValueStore ARN (arn:aws:cloudfront::123456789012:key-value-store/…)",
      ),
  ),
  HANDOUT_EXPIRY_CHECK: optional(interval("1m or 5m")),
  HANDOUT_ANNOUNCEMENT_REMINDER: optional(interval("1d or 12h")),
  HANDOUT_SHUTDOWN_GRACE: optional(secondsSetting("8s or 1m", 600, "10m")),
  HANDOUT_SOCKET_DOWN_LIMIT: optional(secondsSetting("60s or 5m", MAX_INTERVAL_SECONDS, "24d")),
  LOG_LEVEL: optional(
    z.enum(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      "must be one of fatal, error, warn, info, debug, trace, silent",
    ),
  ),
  LOG_FORMAT: optional(z.enum(["json", "pretty"], "must be json or pretty (unset: pretty on a terminal)")),
});

/** `s3://bucket` or `s3://bucket/prefix`, the prefix without a trailing slash kept. */
const SNAPSHOT_S3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*?))?\/?$/;

const snapshotLocation = (text: string): SnapshotLocation => {
  const match = SNAPSHOT_S3.exec(text);
  return match
    ? { kind: "s3", bucket: match[1] as string, prefix: match[2] ?? "" }
    : { kind: "file", path: text };
};

const SLACK_VARIABLES = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"] as const;

/** `'debug'` or `"debug"`: Docker's --env-file keeps quotes as part of the value. */
function quoted(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(envSchema.shape)
    .filter((name) => /^(["'])[\s\S]*\1$/.test(env[name] ?? ""))
    .map(
      (name) =>
        `${name} is wrapped in quotes, which Docker's --env-file keeps as part of the value: remove them (${name}=value).`,
    );
}

const ledgerSetting = (text: string): LedgerSetting =>
  text.startsWith("dynamodb:")
    ? { kind: "dynamodb", table: text.slice("dynamodb:".length) }
    : { kind: "sqlite", path: text.slice("sqlite:".length) };

/**
 * Reads the environment once. Every setting present is checked; those a command needs must be present.
 * Throws a ConfigError that lists every problem, one line each.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  needs: Needs & { readonly storage: "complete" },
): Config<StorageSettings>;
export function loadConfig(
  env: NodeJS.ProcessEnv,
  needs: Needs & { readonly storage: "bucket" },
): Config<BucketStorageSettings>;
export function loadConfig(env: NodeJS.ProcessEnv, needs?: Needs): Config<AnyStorageSettings>;
export function loadConfig(env: NodeJS.ProcessEnv, needs: Needs = {}): Config<AnyStorageSettings> {
  const wrapped = quoted(env);
  if (wrapped.length > 0) throw new ConfigError(wrapped);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}.`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const need = (name: keyof typeof e, fix: string) => {
    if (e[name] === undefined) problems.push(`${name} is not set: ${fix}.`);
  };

  const needSlack = () => {
    need("SLACK_BOT_TOKEN", "set it to the app's bot token (xoxb-…, Slack app → OAuth & Permissions)");
    if (e.SLACK_APP_TOKEN === undefined) {
      need(
        "SLACK_SIGNING_SECRET",
        "set it to the app's signing secret, or set SLACK_APP_TOKEN to use Socket Mode",
      );
    }
  };
  const slackRequested = SLACK_VARIABLES.some((name) => e[name] !== undefined);

  if (needs.slack === "required") needSlack();
  const embedded = e.HANDOUT_BUCKET === undefined && e.CLOUDFRONT_DOMAIN === undefined;
  const storageNeed = needs.storage ?? "as-set";
  // S3 and CloudFront go together; with neither, Handout serves a local folder itself.
  if (storageNeed !== "as-set" && !embedded) {
    need(
      "HANDOUT_BUCKET",
      "set it to the bucket behind CLOUDFRONT_DOMAIN (or unset both to use a local folder)",
    );
  }
  if (storageNeed === "complete" && !embedded) {
    need(
      "CLOUDFRONT_DOMAIN",
      "set it to the distribution in front of HANDOUT_BUCKET, such as d111111abcdef8.cloudfront.net (or unset both to use a local folder)",
    );
    if (e.CLOUDFRONT_PRIVATE_KEY_SECRET_ID && e.CLOUDFRONT_PRIVATE_KEY_FILE) {
      problems.push(
        "CLOUDFRONT_PRIVATE_KEY_SECRET_ID and CLOUDFRONT_PRIVATE_KEY_FILE are both set: keep one of them.",
      );
    } else if (!e.CLOUDFRONT_PRIVATE_KEY_SECRET_ID && !e.CLOUDFRONT_PRIVATE_KEY_FILE) {
      problems.push(
        "CLOUDFRONT_PRIVATE_KEY_SECRET_ID is not set: name the Secrets Manager secret that holds the private key, or set CLOUDFRONT_PRIVATE_KEY_FILE to a PEM file.",
      );
    }
    if (!e.CLOUDFRONT_PRIVATE_KEY_SECRET_ID) {
      need(
        "CLOUDFRONT_PUBLIC_KEY_ID",
        "set it to the CloudFront public key ID (K…) that matches the private key",
      );
    }
  }
  const gateRequested =
    e.HANDOUT_PUBLIC_URL !== undefined &&
    (!embedded || e.SLACK_CLIENT_ID !== undefined || e.SLACK_CLIENT_SECRET !== undefined);
  if (gateRequested) {
    need(
      "SLACK_CLIENT_ID",
      "set it to the Slack app's client ID (Basic Information → App Credentials) for members-only links",
    );
    need(
      "SLACK_CLIENT_SECRET",
      "set it to the Slack app's client secret (Basic Information → App Credentials) for members-only links",
    );
    if (!embedded) {
      need(
        "HANDOUT_SESSION_SECRET",
        "set it to 32 or more random characters (openssl rand -base64 32); every replica needs the same one",
      );
    }
    need("SLACK_BOT_TOKEN", "set it to the app's bot token: the gate asks Slack who is in each conversation");
    const url = new URL(e.HANDOUT_PUBLIC_URL as string);
    if (url.protocol !== "https:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      problems.push(
        "HANDOUT_PUBLIC_URL must start with https:// for members-only links (the sign-in cookie is sent over HTTPS only).",
      );
    }
  }
  if (e.HANDOUT_INDEX_SNAPSHOT?.startsWith("s3://") && embedded) {
    problems.push(
      "HANDOUT_INDEX_SNAPSHOT names S3, but Handout is serving a local folder: give a file path, or set HANDOUT_BUCKET.",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Named on its own once the rest is right, rather than Handout starting without Slack as if none were set.
  if (needs.slack === "if-set" && slackRequested) needSlack();
  if (problems.length > 0) throw new ConfigError(problems);

  const port = Number(e.PORT ?? 3000);
  const publicUrl = new URL(e.HANDOUT_PUBLIC_URL ?? `http://localhost:${port}`);
  const keySource: KeySourceSetting | undefined = e.CLOUDFRONT_PRIVATE_KEY_SECRET_ID
    ? { kind: "secret", secretId: e.CLOUDFRONT_PRIVATE_KEY_SECRET_ID }
    : e.CLOUDFRONT_PRIVATE_KEY_FILE
      ? { kind: "file", path: e.CLOUDFRONT_PRIVATE_KEY_FILE }
      : undefined;
  // Each is set here whenever the checks above asked for it: the overloads' narrower types rest on them.
  const storage: AnyStorageSettings = embedded
    ? {
        mode: "local",
        dir: e.HANDOUT_LOCAL_DIR ?? "./files",
        stateDir: e.HANDOUT_STATE_DIR ?? "./.handout",
        scheme: publicUrl.protocol === "https:" ? "https" : "http",
        host: publicUrl.host,
      }
    : {
        mode: "aws",
        bucket: e.HANDOUT_BUCKET
          ? { name: e.HANDOUT_BUCKET, forcePathStyle: e.HANDOUT_S3_FORCE_PATH_STYLE === "true" }
          : undefined,
        signing:
          e.CLOUDFRONT_DOMAIN && keySource
            ? { domain: e.CLOUDFRONT_DOMAIN, publicKeyId: e.CLOUDFRONT_PUBLIC_KEY_ID, keySource }
            : undefined,
      };

  return {
    port,
    policyFile: e.HANDOUT_POLICY_FILE ?? "./access.yml",
    trialPolicyAllowed: embedded && e.HANDOUT_POLICY_FILE === undefined,
    logLevel: e.LOG_LEVEL ?? "info",
    logFormat: e.LOG_FORMAT,
    // With S3's events keeping the index fresh, a listing only catches what they missed.
    indexRefreshSeconds: parseDuration(
      e.HANDOUT_INDEX_REFRESH ?? (e.HANDOUT_INDEX_QUEUE_URL || e.HANDOUT_INDEX_EVENTS ? "6h" : "10m"),
    ) as number,
    indexSnapshot: e.HANDOUT_INDEX_SNAPSHOT ? snapshotLocation(e.HANDOUT_INDEX_SNAPSHOT) : undefined,
    indexEvents: e.HANDOUT_INDEX_QUEUE_URL
      ? { kind: "queue", queueUrl: e.HANDOUT_INDEX_QUEUE_URL }
      : e.HANDOUT_INDEX_EVENTS
        ? { kind: "lambda" }
        : undefined,
    ledger: ledgerSetting(e.HANDOUT_LEDGER ?? "sqlite:./handout.db"),
    revocationStoreArn: e.HANDOUT_REVOCATION_KVS_ARN,
    expiryCheckSeconds: parseDuration(e.HANDOUT_EXPIRY_CHECK ?? "1m") as number,
    announcementReminderSeconds: e.HANDOUT_ANNOUNCEMENT_REMINDER
      ? parseDuration(e.HANDOUT_ANNOUNCEMENT_REMINDER)
      : undefined,
    shutdownGraceSeconds: seconds(e.HANDOUT_SHUTDOWN_GRACE ?? "7s") as number,
    socketDownLimitSeconds: seconds(e.HANDOUT_SOCKET_DOWN_LIMIT ?? "60s") as number,
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          appToken: e.SLACK_APP_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          apiUrl: e.SLACK_API_URL?.replace(/\/?$/, "/"),
        }
      : undefined,
    slackRequested,
    signature: {
      algorithm: e.HANDOUT_SIGNATURE_ALGORITHM ?? "SHA1",
      keyMaxAgeSeconds: parseDuration(e.HANDOUT_KEY_MAX_AGE ?? "5m") as number,
    },
    storage,
    gate:
      gateRequested && e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET
        ? {
            publicUrl: publicUrl.origin,
            clientId: e.SLACK_CLIENT_ID,
            clientSecret: e.SLACK_CLIENT_SECRET,
            sessionSecret: e.HANDOUT_SESSION_SECRET,
            // An issuer is compared as a string: keep it exactly as given, less a trailing slash.
            issuer: (e.SLACK_OIDC_ISSUER ?? "https://slack.com").replace(/\/$/, ""),
          }
        : undefined,
  };
}
