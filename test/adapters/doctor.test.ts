import type { KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CloudFrontClient,
  DescribeFunctionCommand,
  type DescribeFunctionCommandInput,
  type DistributionConfig,
  type DistributionSummary,
  GetDistributionConfigCommand,
  type GetDistributionConfigCommandInput,
  GetKeyGroupCommand,
  type GetKeyGroupCommandInput,
  GetPublicKeyCommand,
  type GetPublicKeyCommandInput,
  ListDistributionsCommand,
  type ListDistributionsCommandInput,
  NoSuchPublicKey,
} from "@aws-sdk/client-cloudfront";
import {
  CloudFrontKeyValueStoreClient,
  DeleteKeyCommand,
  DescribeKeyValueStoreCommand,
  PutKeyCommand,
  ResourceNotFoundException as StoreNotFound,
} from "@aws-sdk/client-cloudfront-keyvaluestore";
import {
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { doctorCommand } from "../../src/cli/doctor.js";
import { runCli } from "../../src/cli/run.js";
import { BOT_SCOPES } from "../../src/doctor/slack-checks.js";
import { decodeKeyPath } from "../../src/domain/object-key.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { makeKeyPair, type TestKeyPair } from "../support/keys.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { tempFolder } from "../support/temp.js";

const BUCKET = "handout-files";
const SECRET_ID = "cloudfront/handout";
const DISTRIBUTION_ID = "E2DOCTORTEST";
const OBJECTS = ["handbook/guide.pdf", "reports/", "reports/q1 2026.pdf"];
const KVS_ARN = "arn:aws:cloudfront::123456789012:key-value-store/0c2a6e1d-1111-2222-3333-444455556666";
const FUNCTION_ARN = "arn:aws:cloudfront::123456789012:function/handout-revocation";

/**
 * Plays CloudFront in front of the bucket: a signed URL is checked as CloudFront checks it against the
 * public keys the distribution trusts; `origin` says what the bucket behind it answers.
 */
interface Edge {
  readonly host: string;
  trusted: Map<string, KeyObject>;
  /** Whether unsigned requests are refused (viewer access restricted). */
  restricted: boolean;
  /** `denies`: the bucket refuses CloudFront (no origin access control, KMS, bucket policy). */
  origin: "serves" | "denies";
  readonly requests: { url: string; headers: IncomingHttpHeaders }[];
  stop(): Promise<void>;
}

async function startEdge(): Promise<Edge> {
  let edge: Edge;
  const server: Server = createServer((request, response) => {
    const url = `http://${request.headers.host}${request.url}`;
    edge.requests.push({ url, headers: request.headers });
    const refuse = (code: string, message: string, headers: Record<string, string> = {}) => {
      response.writeHead(403, { "content-type": "text/xml", ...headers });
      response.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    const signed = url.includes("?");
    if (signed) {
      const verdict = verifySignedUrl(url, edge.trusted, new Date());
      if (!verdict.ok) return refuse("AccessDenied", `Access denied (${verdict.reason})`);
    } else if (edge.restricted) {
      return refuse("MissingKey", "Missing Key-Pair-Id query parameter or cookie value");
    }
    if (edge.origin === "denies") {
      return refuse("AccessDenied", "Access Denied", { server: "AmazonS3", "x-amz-request-id": "R1" });
    }
    const key = decodeKeyPath(new URL(url).pathname.slice(1));
    if (!OBJECTS.includes(key)) {
      response.writeHead(404);
      return response.end();
    }
    response.writeHead(206, { "content-range": "bytes 0-0/9" });
    response.end("x");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  edge = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    trusted: new Map(),
    restricted: true,
    origin: "serves",
    requests: [],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return edge;
}

const distributionConfig = (): DistributionConfig => ({
  CallerReference: "handout",
  Comment: "Handout",
  Enabled: true,
  Origins: {
    Quantity: 1,
    Items: [
      {
        Id: "files",
        DomainName: `${BUCKET}.s3.eu-west-1.amazonaws.com`,
        OriginPath: "",
        OriginAccessControlId: "E3OACTEST",
        S3OriginConfig: { OriginAccessIdentity: "" },
      },
    ],
  },
  DefaultCacheBehavior: {
    TargetOriginId: "files",
    ViewerProtocolPolicy: "redirect-to-https",
    TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: ["KG1"] },
  },
});

/** What the AWS account holds; the mocked clients answer from it as the services would. */
interface Account {
  secret: string | Error;
  /** CloudFront public keys: ID → PEM. */
  publicKeys: Map<string, string>;
  distributions: DistributionSummary[];
  config: DistributionConfig;
  keyGroups: Map<string, { name: string; items: string[] }>;
  objects: string[];
  listError: Error | undefined;
  /** CloudFront Functions published LIVE: name → the KeyValueStores each reads. */
  functions: Map<string, string[]>;
  kvsError: Error | undefined;
  putKeyError: Error | undefined;
}

const summary = (id: string, domain: string, aliases: string[], status = "Deployed") =>
  ({
    Id: id,
    ARN: `arn:aws:cloudfront::123456789012:distribution/${id}`,
    Status: status,
    DomainName: domain,
    Aliases: { Quantity: aliases.length, Items: aliases },
    Enabled: true,
  }) as DistributionSummary;

describe("handout doctor", () => {
  let pair: TestKeyPair;
  let other: TestKeyPair;
  let slack: SlackDouble;
  let edge: Edge;
  let policyFile: string;
  let account: Account;
  let env: Record<string, string>;
  const cloudFront = new CloudFrontClient({ region: "us-east-1" });
  const s3 = new S3Client({ region: "eu-west-1" });
  const secrets = new SecretsManagerClient({ region: "us-east-1" });
  const cf = mockClient(cloudFront);
  const s3Mock = mockClient(s3);
  const sm = mockClient(secrets);
  const keyValueStore = new CloudFrontKeyValueStoreClient({ region: "us-east-1" });
  const kvs = mockClient(keyValueStore);

  /** The bot token's scopes, as Slack sends them in the x-oauth-scopes header. */
  let grantedScopes: readonly string[];

  /** fetch, refusing anything but the local edge: no test reaches the network. */
  const edgeOnly: typeof fetch = async (input, init) => {
    const host = new URL(input instanceof Request ? input.url : String(input)).host;
    if (host !== edge.host) throw new TypeError("fetch failed", { cause: { code: `TEST_REFUSED ${host}` } });
    return fetch(input, init);
  };

  const doctor = async (overrides: Record<string, string | undefined> = {}) => {
    let stdout = "";
    const code = await doctorCommand(
      [],
      {
        env: { ...env, ...overrides },
        cwd: process.cwd(),
        now: () => new Date(),
        out: (text) => {
          stdout += text;
        },
        err: (text) => {
          stdout += text;
        },
      },
      {
        cloudFront,
        s3: () => s3,
        secretsManager: () => secrets,
        keyValueStore: () => keyValueStore,
        fetch: edgeOnly,
        scheme: "http",
        timeoutMs: 5000,
      },
    );
    return { code, stdout };
  };

  /** A check's line and, for a failure, the fix line under it. */
  const check = (stdout: string, name: string): { line: string; fix: string | undefined } => {
    const lines = stdout.split("\n");
    const index = lines.findIndex((line) => line.slice(2).startsWith(name));
    expect(index, `no line for ${name} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
    const next = lines[index + 1];
    return { line: lines[index] as string, fix: next?.startsWith("    fix: ") ? next.slice(9) : undefined };
  };

  beforeAll(async () => {
    pair = makeKeyPair("K2TESTKEYPAIR1");
    other = makeKeyPair("K2OTHERKEYPAIR");
    slack = await startSlackDouble();
    edge = await startEdge();
    policyFile = join(await tempFolder("doctor"), "access.yml");
  });
  afterAll(async () => {
    await slack.stop();
    await edge.stop();
  });

  beforeEach(async () => {
    await writeFile(
      policyFile,
      [
        "rules:",
        "  - name: Finance reports",
        "    who: { groups: [finance] }",
        "    prefixes: [reports/]",
        "  - name: Handbook",
        "    who: { everyone: true }",
        "    prefixes: [handbook]",
      ].join("\n"),
    );
    env = {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_APP_TOKEN: "xapp-1-test",
      SLACK_API_URL: slack.apiUrl,
      HANDOUT_BUCKET: BUCKET,
      CLOUDFRONT_DOMAIN: edge.host,
      CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
      CLOUDFRONT_PRIVATE_KEY_SECRET_ID: SECRET_ID,
      HANDOUT_POLICY_FILE: policyFile,
    };
    account = {
      secret: pair.privatePem,
      publicKeys: new Map([[pair.keyPairId, pair.publicPem]]),
      // The distribution is on the second page, under an alternate domain name.
      distributions: [
        summary("E1SOMETHINGELSE", "d222222abcdef8.cloudfront.net", []),
        summary(DISTRIBUTION_ID, "d111111abcdef8.cloudfront.net", [edge.host]),
      ],
      config: distributionConfig(),
      keyGroups: new Map([["KG1", { name: "handout", items: [pair.keyPairId] }]]),
      objects: OBJECTS,
      listError: undefined,
      functions: new Map([["handout-revocation", [KVS_ARN]]]),
      kvsError: undefined,
      putKeyError: undefined,
    };
    edge.trusted = new Map([[pair.keyPairId, pair.publicKey]]);
    edge.restricted = true;
    edge.origin = "serves";
    edge.requests.length = 0;
    grantedScopes = BOT_SCOPES;

    slack.reset();
    slack.respond("auth.test", (_call, fallback) => ({
      ...fallback(),
      headers: { "x-oauth-scopes": grantedScopes.join(",") },
    }));

    sm.reset();
    sm.on(GetSecretValueCommand).callsFake(async (input: GetSecretValueCommandInput) => {
      if (account.secret instanceof Error) throw account.secret;
      if (input.SecretId !== SECRET_ID) throw new Error(`unexpected secret ${input.SecretId}`);
      return { Name: SECRET_ID, SecretString: account.secret };
    });

    cf.reset();
    cf.on(GetPublicKeyCommand).callsFake(async (input: GetPublicKeyCommandInput) => {
      const pem = account.publicKeys.get(input.Id ?? "");
      if (!pem) {
        throw new NoSuchPublicKey({ message: "The specified public key does not exist.", $metadata: {} });
      }
      return {
        PublicKey: {
          Id: input.Id,
          CreatedTime: new Date(),
          PublicKeyConfig: { CallerReference: "ref", Name: "handout", EncodedKey: pem },
        },
      };
    });
    cf.on(ListDistributionsCommand).callsFake(async (input: ListDistributionsCommandInput) => {
      const at = Number(input.Marker ?? 0);
      const more = at + 1 < account.distributions.length;
      return {
        DistributionList: {
          Marker: input.Marker ?? "",
          MaxItems: 1,
          Quantity: 1,
          IsTruncated: more,
          ...(more ? { NextMarker: String(at + 1) } : {}),
          Items: account.distributions.slice(at, at + 1),
        },
      };
    });
    cf.on(GetDistributionConfigCommand).callsFake(async (input: GetDistributionConfigCommandInput) => {
      if (input.Id !== DISTRIBUTION_ID) throw new Error(`unexpected distribution ${input.Id}`);
      return { DistributionConfig: account.config, ETag: "E1" };
    });
    cf.on(GetKeyGroupCommand).callsFake(async (input: GetKeyGroupCommandInput) => {
      const group = account.keyGroups.get(input.Id ?? "");
      if (!group) throw new Error(`unexpected key group ${input.Id}`);
      return {
        KeyGroup: {
          Id: input.Id,
          LastModifiedTime: new Date(),
          KeyGroupConfig: { Name: group.name, Items: group.items },
        },
      };
    });

    cf.on(DescribeFunctionCommand).callsFake(async (input: DescribeFunctionCommandInput) => {
      const stores = account.functions.get(input.Name ?? "");
      if (!stores || input.Stage !== "LIVE") throw new Error(`unexpected function ${input.Name}`);
      return {
        FunctionSummary: {
          Name: input.Name,
          FunctionConfig: {
            Comment: "",
            Runtime: "cloudfront-js-2.0",
            KeyValueStoreAssociations: {
              Quantity: stores.length,
              Items: stores.map((KeyValueStoreARN) => ({ KeyValueStoreARN })),
            },
          },
          FunctionMetadata: { FunctionARN: FUNCTION_ARN, Stage: "LIVE", LastModifiedTime: new Date() },
        },
      };
    });

    kvs.reset();
    kvs.on(DescribeKeyValueStoreCommand).callsFake(async () => {
      if (account.kvsError) throw account.kvsError;
      return {
        KvsARN: KVS_ARN,
        ETag: "ETAG1",
        ItemCount: 3,
        TotalSizeInBytes: 90,
        Created: new Date(),
        Status: "READY",
      };
    });
    kvs.on(PutKeyCommand).callsFake(async () => {
      if (account.putKeyError) throw account.putKeyError;
      return { ETag: "ETAG2", ItemCount: 4, TotalSizeInBytes: 120 };
    });
    kvs.on(DeleteKeyCommand).resolves({ ETag: "ETAG3", ItemCount: 3, TotalSizeInBytes: 90 });

    s3Mock.reset();
    s3Mock.on(ListObjectsV2Command).callsFake(async (input: ListObjectsV2CommandInput) => {
      if (account.listError) throw account.listError;
      if (input.Bucket !== BUCKET) throw new Error(`unexpected bucket ${input.Bucket}`);
      const keys = account.objects.filter((key) => key.startsWith(input.Prefix ?? ""));
      return { KeyCount: keys.length, Contents: keys.slice(0, input.MaxKeys).map((Key) => ({ Key })) };
    });
  });

  it("passes every check and exits 0 when everything is set up right", async () => {
    const { code, stdout } = await doctor();
    expect(stdout).not.toContain("✗");
    expect(stdout).not.toMatch(/^- /m);
    for (const name of [
      "Settings",
      "Slack token — accepted in workspace handout-test",
      `Slack scopes — all ${BOT_SCOPES.length} scopes of manifest.yml`,
      `Private key — an RSA-2048 key from the secret ${SECRET_ID}`,
      `CloudFront public key — ${pair.keyPairId} is the public half of the private key`,
      `Distribution — ${DISTRIBUTION_ID} serves ${edge.host}`,
      `Trusted key group — key group handout holds ${pair.keyPairId}`,
      `Origin — ${BUCKET}.s3.eu-west-1.amazonaws.com, through origin access control E3OACTEST`,
      `Bucket — s3://${BUCKET} can be listed`,
      `Access policy — ${policyFile}: 2 rules`,
      'Rule "Finance reports" — files found in reports/',
      'Rule "Handbook" — files found in handbook/',
      "Signed link — GET reports/q1 2026.pdf answered 206",
      "Unsigned link — GET reports/q1 2026.pdf without a signature answered 403",
    ]) {
      expect(stdout).toContain(`✓ ${name}`);
    }
    expect(stdout).toMatch(/All 15 checks passed\.\n$/);
    expect(code).toBe(0);

    // The live requests asked for one byte; the first carried a valid signature, the second none.
    expect(edge.requests).toHaveLength(2);
    const signed = edge.requests.find((request) => request.url.includes("?"));
    expect(signed?.headers.range).toBe("bytes=0-0");
    expect(verifySignedUrl(signed?.url ?? "", edge.trusted, new Date()).ok).toBe(true);
    // Nothing secret reaches the report.
    expect(stdout).not.toContain("Signature=");
    expect(stdout).not.toContain(slack.token);
    expect(stdout).not.toContain(pair.privatePem.split("\n")[1]);
  });

  describe("with revocation at the edge", () => {
    const revoking = { HANDOUT_REVOCATION_KVS_ARN: KVS_ARN };
    beforeEach(() => {
      account.config.DefaultCacheBehavior = {
        ...(account.config.DefaultCacheBehavior as NonNullable<DistributionConfig["DefaultCacheBehavior"]>),
        FunctionAssociations: {
          Quantity: 1,
          Items: [{ EventType: "viewer-request", FunctionARN: FUNCTION_ARN }],
        },
      };
    });

    it("checks the store, the function that reads it on every request, and that Handout can write to it", async () => {
      const { code, stdout } = await doctor(revoking);
      expect(stdout).toContain(`✓ Revocation store — ${KVS_ARN} holds 3 revoked links`);
      expect(stdout).toContain(
        `✓ Revocation function — handout-revocation reads the store on every request to ${DISTRIBUTION_ID}`,
      );
      expect(stdout).toContain("✓ Revocation writes — Handout can add an entry to the store and remove it");
      expect(code).toBe(0);
      // The entry it wrote is gone again, and was written as Handout writes: with the store's ETag.
      const put = kvs.commandCalls(PutKeyCommand)[0]?.args[0].input;
      expect(put).toMatchObject({ KvsARN: KVS_ARN, Key: "handout-doctor-check", IfMatch: "ETAG1" });
      expect(kvs.commandCalls(DeleteKeyCommand)[0]?.args[0].input).toMatchObject({
        Key: "handout-doctor-check",
      });
    });

    it("reports a store that does not exist, and writes nothing", async () => {
      account.kvsError = new StoreNotFound({
        message: "Resource not found",
        $metadata: { httpStatusCode: 404 },
      });
      const { code, stdout } = await doctor(revoking);
      const store = check(stdout, "Revocation store");
      expect(store.line).toBe(`✗ Revocation store — there is no KeyValueStore ${KVS_ARN}`);
      expect(store.fix).toContain("HandoutRevocationKvsArn");
      expect(check(stdout, "Revocation writes").line).toBe(
        "- Revocation writes — skipped: no store to write to",
      );
      expect(kvs.commandCalls(PutKeyCommand)).toHaveLength(0);
      expect(code).toBe(1);
    });

    it("reports a distribution whose behaviours do not all run a function reading the store", async () => {
      account.config.CacheBehaviors = {
        Quantity: 1,
        Items: [
          {
            PathPattern: "exports/*",
            TargetOriginId: "files",
            ViewerProtocolPolicy: "https-only",
            TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: ["KG1"] },
          },
        ],
      };
      const missing = check((await doctor(revoking)).stdout, "Revocation function");
      expect(missing.line).toBe(
        `✗ Revocation function — revoked links still open through ${DISTRIBUTION_ID}: the behaviour exports/* runs no viewer-request function`,
      );
      expect(missing.fix).toContain("infra/deploy.sh");

      account.config.CacheBehaviors = { Quantity: 0, Items: [] };
      account.functions.set("handout-revocation", ["arn:aws:cloudfront::123456789012:key-value-store/other"]);
      const other = check((await doctor(revoking)).stdout, "Revocation function");
      expect(other.line).toBe(
        `✗ Revocation function — revoked links still open through ${DISTRIBUTION_ID}: the default behaviour runs handout-revocation, which reads arn:aws:cloudfront::123456789012:key-value-store/other`,
      );
    });

    it("reports a store Handout may not write to, with the permissions to grant", async () => {
      account.putKeyError = Object.assign(new Error("not allowed"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 403 },
      });
      const { code, stdout } = await doctor(revoking);
      const writes = check(stdout, "Revocation writes");
      expect(writes.line).toContain(
        `✗ Revocation writes — Could not update the revocation list (CloudFront KeyValueStore ${KVS_ARN}, AccessDeniedException)`,
      );
      expect(writes.fix).toBe(
        "Allow cloudfront-keyvaluestore:DescribeKeyValueStore, PutKey, DeleteKey and ListKeys on it.",
      );
      expect(code).toBe(1);
    });
  });

  it("reports a key ID stored in the secret that is not a CloudFront public key ID", async () => {
    account.secret = JSON.stringify({ privateKey: pair.privatePem, keyPairId: "handout-key" });
    const { code, stdout } = await doctor();
    const key = check(stdout, "Private key");
    expect(key.line).toBe(
      `✗ Private key — the key ID stored in the secret ${SECRET_ID} is not a CloudFront public key ID (K…), and Handout signs with it`,
    );
    expect(key.fix).toContain("as keyPairId in the secret");
    expect(code).toBe(1);
  });

  it("keeps its list of scopes equal to manifest.yml's bot scopes", async () => {
    const manifest = parse(await readFile(new URL("../../manifest.yml", import.meta.url), "utf8")) as {
      oauth_config: { scopes: { bot: string[] } };
    };
    expect([...BOT_SCOPES].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });

  it("reports a token Slack refuses, and still runs the checks that do not need Slack", async () => {
    const { code, stdout } = await doctor({ SLACK_BOT_TOKEN: "xoxb-revoked" });
    const token = check(stdout, "Slack token");
    expect(token.line).toBe("✗ Slack token — Slack refused SLACK_BOT_TOKEN (invalid_auth)");
    expect(token.fix).toContain("Copy the Bot User OAuth Token (xoxb-…) again");
    expect(check(stdout, "Slack scopes").line).toBe("- Slack scopes — skipped: no token Slack accepts");
    expect(stdout).toContain("✓ Signed link");
    expect(stdout).not.toContain("xoxb-revoked");
    expect(code).toBe(1);
  });

  it("names the scopes the token lacks", async () => {
    grantedScopes = BOT_SCOPES.filter((scope) => scope !== "pins:write" && scope !== "chat:write.public");
    const { code, stdout } = await doctor();
    const scopes = check(stdout, "Slack scopes");
    expect(scopes.line).toBe("✗ Slack scopes — the token lacks chat:write.public, pins:write");
    expect(scopes.fix).toMatch(/Bot Token Scopes .* reinstall the app/);
    expect(code).toBe(1);
  });

  it("tells a secret with no value yet, and one scheduled for deletion, from a missing one, with the command that fixes each", async () => {
    account.secret = new ResourceNotFoundException({
      message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      $metadata: { httpStatusCode: 400 },
    });
    const empty = check((await doctor()).stdout, "Private key");
    expect(empty.line).toBe(
      `✗ Private key — Cannot read the secret ${SECRET_ID}: it exists but holds no value yet`,
    );
    expect(empty.fix).toBe(
      `Store the private key in it: \`aws secretsmanager put-secret-value --secret-id ${SECRET_ID} --region us-east-1 --secret-string file://keys/private_key.pem\`.`,
    );
    account.secret = new InvalidRequestException({
      message: "You can't perform this operation on the secret because it was marked for deletion.",
      $metadata: { httpStatusCode: 400 },
    });
    const deleted = check((await doctor()).stdout, "Private key");
    expect(deleted.line).toBe(
      `✗ Private key — Cannot read the secret ${SECRET_ID}: it is scheduled for deletion`,
    );
    expect(deleted.fix).toBe(
      `Restore it with \`aws secretsmanager restore-secret --secret-id ${SECRET_ID} --region us-east-1\`, or point CLOUDFRONT_PRIVATE_KEY_SECRET_ID at another secret.`,
    );
  });

  it("reports a secret that does not exist, skips what needs the key, and still fetches unsigned", async () => {
    account.secret = new ResourceNotFoundException({
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
    const { code, stdout } = await doctor();
    const key = check(stdout, "Private key");
    expect(key.line).toBe(
      `✗ Private key — Cannot read the secret ${SECRET_ID}: there is no such secret in region us-east-1`,
    );
    expect(key.fix).toBe("Check CLOUDFRONT_PRIVATE_KEY_SECRET_ID and AWS_REGION.");
    expect(check(stdout, "CloudFront public key").line).toContain(
      "skipped: no private key to compare it with",
    );
    expect(check(stdout, "Signed link").line).toContain("skipped: no private key to sign with");
    // The key ID is configured, so the key group can still be checked.
    expect(stdout).toContain(`✓ Trusted key group — key group handout holds ${pair.keyPairId}`);
    expect(stdout).toContain("✓ Unsigned link");
    expect(code).toBe(1);
  });

  it("reports a PEM whose line breaks were lost in the secret", async () => {
    account.secret = JSON.stringify({ privateKey: pair.privatePem.trim().split("\n").join(" ") });
    const { code, stdout } = await doctor();
    const key = check(stdout, "Private key");
    expect(key.line).toBe(
      `✗ Private key — The private key from the secret ${SECRET_ID} lost its line breaks (was it pasted into one line?)`,
    );
    expect(key.fix).toBe("Store the PEM file as it is, with its line breaks.");
    expect(code).toBe(1);
  });

  it("reports a CloudFront public key that is not the private key's other half", async () => {
    account.publicKeys.set(pair.keyPairId, other.publicPem);
    edge.trusted = new Map([[pair.keyPairId, other.publicKey]]);
    const { code, stdout } = await doctor();
    const publicKey = check(stdout, "CloudFront public key");
    expect(publicKey.line).toBe(
      `✗ CloudFront public key — ${pair.keyPairId} does not match the private key: CloudFront will refuse every link`,
    );
    expect(publicKey.fix).toContain("Register the public key made from this private key");
    // The live check confirms it, and puts the mismatch first among the causes.
    const signed = check(stdout, "Signed link");
    expect(signed.line).toContain(
      "✗ Signed link — GET reports/q1 2026.pdf with a fresh signature answered 403",
    );
    expect(signed.fix).toMatch(
      /^Likely causes, most likely first: CloudFront public key: K2TESTKEYPAIR1 does not match/,
    );
    // The finding replaces the general wording of the same cause.
    expect(signed.fix).not.toContain("the public key registered under this ID");
    expect(code).toBe(1);
  });

  it("reports a public key ID CloudFront does not have", async () => {
    const { code, stdout } = await doctor({ CLOUDFRONT_PUBLIC_KEY_ID: "K2TYPOKEYID" });
    const publicKey = check(stdout, "CloudFront public key");
    expect(publicKey.line).toBe(
      "✗ CloudFront public key — CloudFront has no public key with the ID K2TYPOKEYID",
    );
    expect(publicKey.fix).toContain("Check CLOUDFRONT_PUBLIC_KEY_ID");
    expect(cf.commandCalls(GetPublicKeyCommand)[0]?.args[0].input.Id).toBe("K2TYPOKEYID");
    expect(code).toBe(1);
  });

  it("reports that no distribution serves CLOUDFRONT_DOMAIN after reading every page", async () => {
    account.distributions = account.distributions.slice(0, 1);
    const { code, stdout } = await doctor();
    const distribution = check(stdout, "Distribution");
    expect(distribution.line).toBe(
      `✗ Distribution — no distribution in this AWS account serves ${edge.host}`,
    );
    expect(distribution.fix).toContain("Set CLOUDFRONT_DOMAIN to the distribution's domain name");
    expect(check(stdout, "Trusted key group").line).toContain("skipped: no distribution to inspect");
    expect(check(stdout, "Origin").line).toContain("skipped: no distribution to inspect");
    expect(code).toBe(1);
  });

  it("reports a CLOUDFRONT_DOMAIN that is the bucket's S3 domain", async () => {
    const { code, stdout } = await doctor({ CLOUDFRONT_DOMAIN: `${BUCKET}.s3.eu-west-1.amazonaws.com` });
    const distribution = check(stdout, "Distribution");
    expect(distribution.line).toBe(
      `✗ Distribution — CLOUDFRONT_DOMAIN is an S3 domain (${BUCKET}.s3.eu-west-1.amazonaws.com), not the distribution's`,
    );
    expect(distribution.fix).toContain("links must be signed for CloudFront, not for S3");
    expect(cf.commandCalls(ListDistributionsCommand)).toHaveLength(0);
    expect(check(stdout, "Signed link").line).toContain(
      "skipped: CLOUDFRONT_DOMAIN is not the distribution's",
    );
    expect(check(stdout, "Unsigned link").line).toContain(
      "skipped: CLOUDFRONT_DOMAIN is not the distribution's",
    );
    expect(code).toBe(1);
  });

  it("reports a distribution that does not restrict viewer access", async () => {
    account.config = {
      ...distributionConfig(),
      DefaultCacheBehavior: {
        TargetOriginId: "files",
        ViewerProtocolPolicy: "allow-all",
        TrustedKeyGroups: { Enabled: false, Quantity: 0 },
      },
    };
    edge.restricted = false;
    const { code, stdout } = await doctor();
    const group = check(stdout, "Trusted key group");
    expect(group.line).toBe(
      `✗ Trusted key group — ${DISTRIBUTION_ID} does not restrict viewer access: files are served without a signed link`,
    );
    expect(group.fix).toContain("Restrict viewer access → Yes → Trusted key groups");
    const unsigned = check(stdout, "Unsigned link");
    expect(unsigned.line).toBe(
      "✗ Unsigned link — GET reports/q1 2026.pdf without a signature answered 206: anyone with the address can download it",
    );
    expect(code).toBe(1);
  });

  it("reports a trusted key group that does not hold the key", async () => {
    account.keyGroups.set("KG1", { name: "handout", items: [other.keyPairId] });
    edge.trusted = new Map([[other.keyPairId, other.publicKey]]);
    const { code, stdout } = await doctor();
    const group = check(stdout, "Trusted key group");
    expect(group.line).toBe(
      `✗ Trusted key group — the trusted key group handout (KG1) does not hold ${pair.keyPairId}`,
    );
    expect(group.fix).toBe(
      `Add public key ${pair.keyPairId} to handout (CloudFront → Key groups → Edit), or sign with a key the group holds (${other.keyPairId}).`,
    );
    expect(check(stdout, "Signed link").fix).toContain("Trusted key group: the trusted key group handout");
    expect(code).toBe(1);
  });

  it("reports an origin that is not the bucket", async () => {
    const config = distributionConfig();
    const [origin] = config.Origins?.Items ?? [];
    if (!origin) throw new Error("the test distribution has an origin");
    origin.DomainName = "old-files.s3.eu-west-1.amazonaws.com";
    account.config = config;
    const { code, stdout } = await doctor();
    const line = check(stdout, "Origin");
    expect(line.line).toBe(
      `✗ Origin — the default behaviour's origin is old-files.s3.eu-west-1.amazonaws.com, not the bucket ${BUCKET}`,
    );
    expect(line.fix).toContain(
      `Point the origin at the bucket's REST endpoint ${BUCKET}.s3.<region>.amazonaws.com`,
    );
    expect(code).toBe(1);
  });

  it("reports an origin without origin access control, and a 403 from the bucket", async () => {
    const config = distributionConfig();
    const [origin] = config.Origins?.Items ?? [];
    if (!origin) throw new Error("the test distribution has an origin");
    origin.OriginAccessControlId = "";
    account.config = config;
    edge.origin = "denies";
    const { code, stdout } = await doctor();
    const line = check(stdout, "Origin");
    expect(line.line).toBe(
      "✗ Origin — origin files has no origin access control, so CloudFront cannot read the private bucket",
    );
    expect(line.fix).toContain("Create an origin access control for S3");
    const signed = check(stdout, "Signed link");
    expect(signed.line).toBe(
      "✗ Signed link — GET reports/q1 2026.pdf with a fresh signature answered 403, from the bucket (AccessDenied: Access Denied)",
    );
    // The bucket refused, so the bucket's causes come before the signature's.
    expect(signed.fix).toMatch(
      /^Likely causes, most likely first: Origin: origin files has no origin access control.*; the bucket policy does not let/,
    );
    expect(code).toBe(1);
  });

  it("reports a bucket it may not list, and skips what needs a listing", async () => {
    account.listError = new S3ServiceException({
      name: "AccessDenied",
      $fault: "client",
      $metadata: { httpStatusCode: 403 },
      message: "Access Denied",
    });
    const { code, stdout } = await doctor();
    const bucket = check(stdout, "Bucket");
    expect(bucket.line).toBe(`✗ Bucket — cannot list s3://${BUCKET}: access denied (AccessDenied)`);
    expect(bucket.fix).toBe(
      `Allow s3:ListBucket on arn:aws:s3:::${BUCKET} (Handout lists it to search files) to the AWS credentials the doctor runs with.`,
    );
    expect(check(stdout, 'Rule "Finance reports"').line).toContain("skipped: the bucket cannot be listed");
    expect(check(stdout, "Signed link").line).toContain(
      "skipped: no file to fetch: the bucket cannot be listed",
    );
    expect(code).toBe(1);
  });

  it("names the rule whose prefix holds no files", async () => {
    await writeFile(
      policyFile,
      [
        "rules:",
        "  - name: Finance",
        "    who: { groups: [finance] }",
        "    prefixes: [reports/, Finance/2026/]",
      ].join("\n"),
    );
    const { code, stdout } = await doctor();
    const rule = check(stdout, 'Rule "Finance"');
    expect(rule.line).toBe(
      '✗ Rule "Finance" — no files in Finance/2026/: people it names would find nothing to share there',
    );
    expect(rule.fix).toContain("prefixes are case-sensitive");
    // A file under the rule's other prefix still serves the live check.
    expect(stdout).toContain("✓ Signed link — GET reports/q1 2026.pdf answered 206");
    expect(code).toBe(1);
  });

  it("reports a signed link CloudFront refuses, with the causes in one line", async () => {
    account.distributions[1] = summary(
      DISTRIBUTION_ID,
      "d111111abcdef8.cloudfront.net",
      [edge.host],
      "InProgress",
    );
    edge.trusted = new Map();
    const { code, stdout } = await doctor();
    expect(stdout).toContain(
      `✓ Distribution — ${DISTRIBUTION_ID} serves ${edge.host} (status InProgress: a change is still deploying)`,
    );
    const signed = check(stdout, "Signed link");
    expect(signed.line).toBe(
      "✗ Signed link — GET reports/q1 2026.pdf with a fresh signature answered 403 (AccessDenied: Access denied (unknown-key-pair))",
    );
    expect(signed.fix).toBe(
      [
        "Likely causes, most likely first: the distribution is still deploying a change (status InProgress)",
        "the key ID is not in the trusted key group of the behaviour serving this path",
        "the public key registered under this ID is not this private key's",
        "the bucket policy does not let this distribution's origin access control s3:GetObject",
        "the files are encrypted with SSE-KMS and the KMS key policy does not allow kms:Decrypt to cloudfront.amazonaws.com",
        "the origin is not the bucket's REST endpoint with origin access control.",
      ].join("; "),
    );
    expect(code).toBe(1);
  });

  it("reports an unsigned link the distribution serves", async () => {
    edge.restricted = false;
    const { code, stdout } = await doctor();
    const unsigned = check(stdout, "Unsigned link");
    expect(unsigned.line).toBe(
      "✗ Unsigned link — GET reports/q1 2026.pdf without a signature answered 206: anyone with the address can download it",
    );
    expect(unsigned.fix).toContain(
      "On every behaviour that serves the bucket, set Restrict viewer access → Yes → Trusted key groups.",
    );
    expect(stdout).toContain("✓ Signed link");
    expect(code).toBe(1);
  });

  it("reports each missing or malformed setting as a failed check and runs the rest", async () => {
    const { code, stdout } = await doctor({ HANDOUT_BUCKET: undefined, CLOUDFRONT_PUBLIC_KEY_ID: "my-key" });
    const bucket = check(stdout, "Setting HANDOUT_BUCKET");
    expect(bucket.line).toBe("✗ Setting HANDOUT_BUCKET — HANDOUT_BUCKET is not set");
    expect(bucket.fix).toMatch(/^Set it to the /);
    const keyId = check(stdout, "Setting CLOUDFRONT_PUBLIC_KEY_ID");
    expect(keyId.line).toBe(
      "✗ Setting CLOUDFRONT_PUBLIC_KEY_ID — CLOUDFRONT_PUBLIC_KEY_ID is set but not valid",
    );
    expect(keyId.fix).toContain("CLOUDFRONT_PUBLIC_KEY_ID must be a CloudFront public key ID such as");
    // The malformed ID is treated as unset: the key still loads, and what needs an ID says so.
    expect(stdout).toContain(`✓ Private key — an RSA-2048 key from the secret ${SECRET_ID}`);
    expect(check(stdout, "CloudFront public key").line).toBe(
      "✗ CloudFront public key — no public key ID: CLOUDFRONT_PUBLIC_KEY_ID is not set and the secret stores none",
    );
    expect(check(stdout, "Trusted key group").line).toContain("skipped: no public key ID to look for");
    expect(check(stdout, "Bucket").line).toContain("skipped: HANDOUT_BUCKET is not set");
    expect(check(stdout, 'Rule "Handbook"').line).toContain("skipped: HANDOUT_BUCKET is not set");
    expect(stdout).toContain("✓ Slack token");
    expect(stdout).toContain(`✓ Distribution — ${DISTRIBUTION_ID} serves ${edge.host}`);
    expect(stdout).not.toContain("my-key");
    expect(code).toBe(1);
  });

  it("leaves AWS alone when neither HANDOUT_BUCKET nor CLOUDFRONT_DOMAIN is set (embedded mode)", async () => {
    const { code, stdout } = await doctor({ HANDOUT_BUCKET: undefined, CLOUDFRONT_DOMAIN: undefined });
    expect(check(stdout, "S3 and CloudFront").line).toMatch(
      /^- S3 and CloudFront — skipped: neither HANDOUT_BUCKET nor CLOUDFRONT_DOMAIN is set, so Handout serves the folder .+ itself$/,
    );
    expect(stdout).toContain("✓ Slack token");
    expect(stdout).toContain(`✓ Access policy — ${policyFile}: 2 rules`);
    expect(cf.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(edge.requests).toHaveLength(0);
    expect(code).toBe(0);
  });

  it("says in Socket Mode without HANDOUT_PUBLIC_URL that members-only links are not offered", async () => {
    const { stdout } = await doctor();
    expect(check(stdout, "Members-only links").line).toMatch(
      /^✓ Members-only links — off: HANDOUT_PUBLIC_URL is not set, so members-only links are not offered: in Socket Mode/,
    );
  });

  it("fails when the policy forces members-only links and the gate is not set up", async () => {
    await writeFile(
      policyFile,
      "rules:\n  - name: Finance reports\n    who: { groups: [finance] }\n    prefixes: [reports/]\n    open: members\n",
    );
    const { code, stdout } = await doctor();
    const gate = check(stdout, "Members-only links");
    expect(gate.line).toContain("“Finance reports” says open: members, and HANDOUT_PUBLIC_URL is not set");
    expect(gate.fix).toContain("Set HANDOUT_PUBLIC_URL, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET");
    expect(code).toBe(1);
  });

  it("names the gate's missing client ID and secret, and checks the rest", async () => {
    const { code, stdout } = await doctor({
      HANDOUT_PUBLIC_URL: "https://files.example.com",
      HANDOUT_SESSION_SECRET: "s".repeat(40),
    });
    expect(check(stdout, "Setting SLACK_CLIENT_ID").line).toContain("SLACK_CLIENT_ID is not set");
    expect(check(stdout, "Setting SLACK_CLIENT_SECRET").line).toContain("SLACK_CLIENT_SECRET is not set");
    expect(stdout).toContain("✓ Slack token");
    expect(code).toBe(1);
  });

  it("exits 2 with usage when given arguments", async () => {
    for (const args of [
      ["doctor", "now"],
      ["doctor", "--bogus"],
    ]) {
      let stderr = "";
      const code = await runCli(args, {
        env: {},
        cwd: process.cwd(),
        now: () => new Date(),
        out: () => {},
        err: (text) => {
          stderr += text;
        },
      });
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toContain("npx tsx src/cli.ts doctor\n");
    }
  });
});
