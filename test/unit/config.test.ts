import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStorage } from "../../src/app/storage.js";
import { ConfigError, loadConfig, type Needs, SERVER_NEEDS } from "../../src/config/config.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { readLocalKeyPair } from "../../src/signing/local-keys.js";
import { captureLogs } from "../support/log.js";
import { tempFolder } from "../support/temp.js";

const problemsOf = (env: NodeJS.ProcessEnv, needs: Needs = {}): readonly string[] => {
  try {
    loadConfig(env, needs);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("the configuration was accepted");
};

describe("configuration", () => {
  it("reads a complete environment with its defaults", () => {
    const config = loadConfig(
      {
        SLACK_BOT_TOKEN: "xoxb-1",
        SLACK_SIGNING_SECRET: "abc",
        SLACK_API_URL: "http://127.0.0.1:9000/api",
        HANDOUT_BUCKET: "team-files",
        CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
        CLOUDFRONT_PUBLIC_KEY_ID: "K2JCJMDEHXQW5F",
        CLOUDFRONT_PRIVATE_KEY_SECRET_ID: "handout/key",
      },
      { storage: "complete", slack: "required" },
    );
    expect(config).toEqual({
      port: 3000,
      policyFile: "./access.yml",
      trialPolicyAllowed: false,
      logLevel: "info",
      logFormat: undefined,
      slackRequested: true,
      indexRefreshSeconds: 600,
      ledger: { kind: "sqlite", path: "./handout.db" },
      revocationStoreArn: undefined,
      expiryCheckSeconds: 60,
      shutdownGraceSeconds: 7,
      socketDownLimitSeconds: 60,
      slack: {
        botToken: "xoxb-1",
        appToken: undefined,
        signingSecret: "abc",
        apiUrl: "http://127.0.0.1:9000/api/",
      },
      signature: { algorithm: "SHA1", keyMaxAgeSeconds: 300 },
      storage: {
        mode: "aws",
        bucket: { name: "team-files", forcePathStyle: false },
        signing: {
          domain: "d111111abcdef8.cloudfront.net",
          publicKeyId: "K2JCJMDEHXQW5F",
          keySource: { kind: "secret", secretId: "handout/key" },
        },
      },
    });
  });

  it("lists every missing setting a command needs, each with its fix", () => {
    expect(problemsOf({}, { storage: "complete", slack: "required" })).toEqual([
      "SLACK_BOT_TOKEN is not set: set it to the app's bot token (xoxb-…, Slack app → OAuth & Permissions).",
      "SLACK_SIGNING_SECRET is not set: set it to the app's signing secret, or set SLACK_APP_TOKEN to use Socket Mode.",
    ]);
    expect(problemsOf({ CLOUDFRONT_DOMAIN: "d1.cloudfront.net" }, { storage: "complete" })).toEqual([
      "HANDOUT_BUCKET is not set: set it to the bucket behind CLOUDFRONT_DOMAIN (or unset both to use a local folder).",
      "CLOUDFRONT_PRIVATE_KEY_SECRET_ID is not set: name the Secrets Manager secret that holds the private key, or set CLOUDFRONT_PRIVATE_KEY_FILE to a PEM file.",
      "CLOUDFRONT_PUBLIC_KEY_ID is not set: set it to the CloudFront public key ID (K…) that matches the private key.",
    ]);
    expect(problemsOf({ HANDOUT_BUCKET: "team-files" }, { storage: "complete" })[0]).toBe(
      "CLOUDFRONT_DOMAIN is not set: set it to the distribution in front of HANDOUT_BUCKET, such as d111111abcdef8.cloudfront.net (or unset both to use a local folder).",
    );
  });

  it("asks a server for Slack's settings only when one of them is set, after the rest is right", () => {
    expect(loadConfig({}, SERVER_NEEDS).slack).toBeUndefined();
    const onlyAppToken = { SLACK_APP_TOKEN: "xapp-1" };
    expect(problemsOf(onlyAppToken, SERVER_NEEDS)).toEqual([
      "SLACK_BOT_TOKEN is not set: set it to the app's bot token (xoxb-…, Slack app → OAuth & Permissions).",
    ]);
    expect(problemsOf({ ...onlyAppToken, CLOUDFRONT_DOMAIN: "d1.cloudfront.net" }, SERVER_NEEDS)[0]).toBe(
      "HANDOUT_BUCKET is not set: set it to the bucket behind CLOUDFRONT_DOMAIN (or unset both to use a local folder).",
    );
  });

  it("serves a local folder itself when neither a bucket nor a distribution is set", () => {
    const config = loadConfig({ PORT: "8080" }, { storage: "complete" });
    expect(config.storage).toEqual({
      mode: "local",
      dir: "./files",
      stateDir: "./.handout",
      scheme: "http",
      host: "localhost:8080",
    });
    const behindProxy = loadConfig({
      HANDOUT_PUBLIC_URL: "https://files.example.com",
      HANDOUT_LOCAL_DIR: "/srv/files",
    });
    expect(behindProxy.storage).toMatchObject({
      mode: "local",
      dir: "/srv/files",
      scheme: "https",
      host: "files.example.com",
    });
  });

  it("names each malformed variable and never repeats a secret's value", () => {
    const env = {
      SLACK_BOT_TOKEN: "xoxp-user-token-s3cr3t",
      SLACK_SIGNING_SECRET: "has spaces s3cr3t",
      PORT: "70000",
      HANDOUT_BUCKET: "arn:aws:s3:::bucket",
      CLOUDFRONT_DOMAIN: "https://d111111abcdef8.cloudfront.net/",
      CLOUDFRONT_PUBLIC_KEY_ID: "not-an-id",
      HANDOUT_S3_FORCE_PATH_STYLE: "yes",
      HANDOUT_SIGNATURE_ALGORITHM: "MD5",
    };
    const problems = problemsOf(env);
    expect(problems.map((p) => p.split(" ")[0])).toEqual([
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
      "PORT",
      "HANDOUT_BUCKET",
      "HANDOUT_S3_FORCE_PATH_STYLE",
      "CLOUDFRONT_DOMAIN",
      "CLOUDFRONT_PUBLIC_KEY_ID",
      "HANDOUT_SIGNATURE_ALGORITHM",
    ]);
    expect(problems.join("\n")).not.toContain("s3cr3t");
    expect(problems).toContain(
      "CLOUDFRONT_DOMAIN must be the domain only, without https:// (for example d111111abcdef8.cloudfront.net).",
    );
  });

  it("wants exactly one private key source, and a key ID unless the secret can carry it", () => {
    const base = { CLOUDFRONT_DOMAIN: "d1.cloudfront.net", HANDOUT_BUCKET: "b-1" };
    expect(
      problemsOf(
        { ...base, CLOUDFRONT_PRIVATE_KEY_SECRET_ID: "s", CLOUDFRONT_PRIVATE_KEY_FILE: "k.pem" },
        { storage: "complete" },
      ),
    ).toEqual([
      "CLOUDFRONT_PRIVATE_KEY_SECRET_ID and CLOUDFRONT_PRIVATE_KEY_FILE are both set: keep one of them.",
    ]);
    const { storage } = loadConfig(
      { ...base, CLOUDFRONT_PRIVATE_KEY_SECRET_ID: "s" },
      { storage: "complete" },
    );
    expect(storage).toMatchObject({ mode: "aws", signing: { keySource: { kind: "secret", secretId: "s" } } });
    expect(storage.mode === "aws" ? storage.signing.publicKeyId : "no AWS settings").toBeUndefined();
    expect(problemsOf({ ...base, CLOUDFRONT_PRIVATE_KEY_FILE: "k.pem" }, { storage: "complete" })).toEqual([
      "CLOUDFRONT_PUBLIC_KEY_ID is not set: set it to the CloudFront public key ID (K…) that matches the private key.",
    ]);
  });

  it("lets a command that lists the bucket run without CloudFront, and one that needs neither run with both half set", () => {
    const listing = loadConfig({ HANDOUT_BUCKET: "b-1" }, { storage: "bucket" });
    expect(listing.storage).toEqual({
      mode: "aws",
      bucket: { name: "b-1", forcePathStyle: false },
      signing: undefined,
    });
    expect(problemsOf({ CLOUDFRONT_DOMAIN: "d1.cloudfront.net" }, { storage: "bucket" })).toEqual([
      "HANDOUT_BUCKET is not set: set it to the bucket behind CLOUDFRONT_DOMAIN (or unset both to use a local folder).",
    ]);
    expect(loadConfig({ CLOUDFRONT_DOMAIN: "d1.cloudfront.net" }).storage).toEqual({
      mode: "aws",
      bucket: undefined,
      signing: undefined,
    });
  });

  it("treats empty variables as unset and needs no signing secret in Socket Mode", () => {
    const config = loadConfig(
      { SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1", SLACK_SIGNING_SECRET: "", PORT: "" },
      { slack: "required" },
    );
    expect(config.slack?.appToken).toBe("xapp-1");
    expect(config.slack?.signingSecret).toBeUndefined();
    expect(config.port).toBe(3000);
  });
});

describe("intervals", () => {
  it("refuses an interval longer than a timer can wait", () => {
    expect(problemsOf({ HANDOUT_INDEX_REFRESH: "4w" })).toEqual([
      "HANDOUT_INDEX_REFRESH must be at most 24d.",
    ]);
    expect(problemsOf({ HANDOUT_EXPIRY_CHECK: "soon" })).toEqual([
      "HANDOUT_EXPIRY_CHECK must be a duration such as 1m or 5m.",
    ]);
    expect(problemsOf({ HANDOUT_ANNOUNCEMENT_REMINDER: "the day before" })).toEqual([
      "HANDOUT_ANNOUNCEMENT_REMINDER must be a duration such as 1d or 12h.",
    ]);
    const reminder = (value?: string) =>
      loadConfig({
        CLOUDFRONT_DOMAIN: "d1.cloudfront.net",
        HANDOUT_BUCKET: "b-1",
        HANDOUT_ANNOUNCEMENT_REMINDER: value,
      }).announcementReminderSeconds;
    expect(reminder("1d")).toBe(86_400);
    expect(reminder(undefined)).toBeUndefined();
    expect(
      loadConfig({
        HANDOUT_KEY_MAX_AGE: "24d",
        CLOUDFRONT_DOMAIN: "d1.cloudfront.net",
        HANDOUT_BUCKET: "b-1",
        CLOUDFRONT_PRIVATE_KEY_SECRET_ID: "s",
      }).signature.keyMaxAgeSeconds,
    ).toBe(24 * 86_400);
  });
});

describe("S3's object events for the index", () => {
  const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/handout-index";

  it("makes the full listing a sweep every 6 hours once events are configured, unless told otherwise", () => {
    expect(loadConfig({}).indexRefreshSeconds).toBe(600);
    expect(loadConfig({}).indexEvents).toBeUndefined();
    expect(loadConfig({ HANDOUT_INDEX_QUEUE_URL: QUEUE })).toMatchObject({
      indexRefreshSeconds: 6 * 3600,
      indexEvents: { kind: "queue", queueUrl: QUEUE },
    });
    expect(loadConfig({ HANDOUT_INDEX_EVENTS: "eventbridge" })).toMatchObject({
      indexRefreshSeconds: 6 * 3600,
      indexEvents: { kind: "lambda" },
    });
    expect(
      loadConfig({ HANDOUT_INDEX_QUEUE_URL: QUEUE, HANDOUT_INDEX_REFRESH: "1h" }).indexRefreshSeconds,
    ).toBe(3600);
  });

  it("refuses a queue setting that is not an SQS queue URL, naming the setting", () => {
    expect(problemsOf({ HANDOUT_INDEX_QUEUE_URL: "handout-index" })).toEqual([
      "HANDOUT_INDEX_QUEUE_URL must be an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/handout-index.",
    ]);
    expect(problemsOf({ HANDOUT_INDEX_EVENTS: "sqs" })).toEqual([
      "HANDOUT_INDEX_EVENTS must be eventbridge (an EventBridge rule invokes Handout on AWS Lambda), or unset.",
    ]);
  });
});

describe("the shutdown grace period and the Socket Mode health bound", () => {
  it("takes seconds or a duration, defaults to 7 s and 60 s, and refuses anything else naming the setting", () => {
    expect(loadConfig({})).toMatchObject({ shutdownGraceSeconds: 7, socketDownLimitSeconds: 60 });
    expect(loadConfig({ HANDOUT_SHUTDOWN_GRACE: "5s", HANDOUT_SOCKET_DOWN_LIMIT: "2m" })).toMatchObject({
      shutdownGraceSeconds: 5,
      socketDownLimitSeconds: 120,
    });
    expect(loadConfig({ HANDOUT_SHUTDOWN_GRACE: "0s" }).shutdownGraceSeconds).toBe(0);
    expect(problemsOf({ HANDOUT_SHUTDOWN_GRACE: "soon", HANDOUT_SOCKET_DOWN_LIMIT: "-1s" })).toEqual([
      "HANDOUT_SHUTDOWN_GRACE must be a number of seconds or a duration such as 8s or 1m.",
      "HANDOUT_SOCKET_DOWN_LIMIT must be a number of seconds or a duration such as 60s or 5m.",
    ]);
    expect(problemsOf({ HANDOUT_SHUTDOWN_GRACE: "1h" })).toEqual([
      "HANDOUT_SHUTDOWN_GRACE must be at most 10m.",
    ]);
  });
});

describe("the embedded default's folders", () => {
  it("refuses to keep the signing key or the ledger where links can be made to them", async () => {
    const dir = await tempFolder("served");
    const logger = captureLogs().logger;
    const configFor = (env: NodeJS.ProcessEnv) =>
      loadConfig({ HANDOUT_LOCAL_DIR: join(dir, "files"), ...env }, { storage: "complete" });
    await expect(
      openStorage(configFor({ HANDOUT_STATE_DIR: join(dir, "files", "keys") }), logger),
    ).rejects.toThrow(/HANDOUT_STATE_DIR \(it holds the signing key\) is inside HANDOUT_LOCAL_DIR/);
    await expect(
      openStorage(
        configFor({
          HANDOUT_STATE_DIR: join(dir, "state"),
          HANDOUT_LEDGER: `sqlite:${join(dir, "files", "h.db")}`,
        }),
        logger,
      ),
    ).rejects.toThrow(/HANDOUT_LEDGER's file is inside HANDOUT_LOCAL_DIR/);
    // A hidden folder inside is never listed or served.
    const storage = await openStorage(
      configFor({ HANDOUT_STATE_DIR: join(dir, "files", ".handout") }),
      logger,
    );
    expect(storage.description).toContain(join(dir, "files"));
  });

  it("signs the local folder's links with the hash the settings name, as for CloudFront", async () => {
    const dir = await tempFolder("local-hash");
    const config = loadConfig(
      {
        HANDOUT_LOCAL_DIR: join(dir, "files"),
        HANDOUT_STATE_DIR: join(dir, "state"),
        HANDOUT_SIGNATURE_ALGORITHM: "SHA256",
      },
      { storage: "complete" },
    );
    const storage = await openStorage(config, captureLogs().logger);
    const now = new Date("2026-03-01T09:00:00Z");
    const link = storage.signer.sign("welcome.txt", { expiresAt: new Date("2026-03-02T09:00:00Z") });
    expect(new URL(link.url).searchParams.get("Hash-Algorithm")).toBe("SHA256");
    const pair = await readLocalKeyPair(join(dir, "state"));
    expect(pair).toBeDefined();
    const keys = new Map(pair ? [[pair.keyPairId, pair.publicKey]] : []);
    expect(verifySignedUrl(link.url, keys, now)).toMatchObject({ ok: true });
    storage.close();
  });
});

describe("the index snapshot's place", () => {
  const s3 = { HANDOUT_BUCKET: "handout-files", CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net" };

  it("reads s3://BUCKET/PREFIX as a prefix in a bucket, and anything else as a file path", () => {
    expect(loadConfig({ ...s3, HANDOUT_INDEX_SNAPSHOT: "s3://handout-state/index/" }).indexSnapshot).toEqual({
      kind: "s3",
      bucket: "handout-state",
      prefix: "index",
    });
    expect(loadConfig({ ...s3, HANDOUT_INDEX_SNAPSHOT: "s3://handout-state" }).indexSnapshot).toEqual({
      kind: "s3",
      bucket: "handout-state",
      prefix: "",
    });
    expect(loadConfig({ HANDOUT_INDEX_SNAPSHOT: "./state/index.snapshot" }).indexSnapshot).toEqual({
      kind: "file",
      path: "./state/index.snapshot",
    });
    expect(loadConfig({}).indexSnapshot).toBeUndefined();
  });

  it("refuses another kind of URL, and S3 when Handout serves a local folder", () => {
    expect(problemsOf({ HANDOUT_INDEX_SNAPSHOT: "https://example.com/index" })).toEqual([
      "HANDOUT_INDEX_SNAPSHOT must be a local file path or s3://BUCKET/PREFIX (for example s3://my-bucket/handout-index).",
    ]);
    expect(problemsOf({ HANDOUT_INDEX_SNAPSHOT: "s3://handout-state/index" })).toEqual([
      "HANDOUT_INDEX_SNAPSHOT names S3, but Handout is serving a local folder: give a file path, or set HANDOUT_BUCKET.",
    ]);
  });
});
