import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fileKeySource, type KeyTextSource, secretsManagerKeySource } from "../../src/signing/key-sources.js";
import { parsePrivateKey, readKeyMaterial } from "../../src/signing/private-key.js";
import { SigningKeyCache } from "../../src/signing/signing-key-cache.js";
import { makeKeyPair, type TestKeyPair } from "../support/keys.js";
import { captureLogs } from "../support/log.js";
import { type SecretsManagerDouble, startSecretsManagerDouble } from "../support/secrets-manager.js";
import { tempFolder } from "../support/temp.js";

let pair: TestKeyPair;
beforeAll(() => {
  pair = makeKeyPair();
});

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("no error was thrown");
};

describe("private key parsing", () => {
  it("accepts PKCS#8 and PKCS#1 RSA keys", () => {
    expect(parsePrivateKey(pair.privatePem, "x").asymmetricKeyType).toBe("rsa");
    const pkcs1 = pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    expect(pkcs1).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(parsePrivateKey(pkcs1, "x").asymmetricKeyType).toBe("rsa");
  });

  it("gives each usual mistake its own message, without repeating the key", () => {
    const body = pair.privatePem.split("\n")[1] as string;
    const cases: [string, string, RegExp][] = [
      ["newlines lost", pair.privatePem.replace(/\n/g, " "), /lost its line breaks/],
      ["escaped newlines", pair.privatePem.replace(/\n/g, "\\n"), /literal \\n sequences/],
      ["public key", pair.publicPem, /is a public key: Handout needs the private key/],
      [
        "encrypted",
        pair.privateKey
          .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
          .toString(),
        /encrypted with a passphrase/,
      ],
      [
        "non-RSA",
        generateKeyPairSync("ec", { namedCurve: "P-256" })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
        /is a EC key: CloudFront signs with RSA keys/,
      ],
      ["not a PEM", "hello", /is not a PEM key/],
      ["damaged", pair.privatePem.replace(body, body.replace(/[A-Z]/g, "A")), /is damaged/],
    ];
    for (const [name, pem, expected] of cases) {
      const message = messageOf(() => parsePrivateKey(pem, "the secret handout/key"));
      expect(message, name).toMatch(expected);
      expect(message, name).toMatch(/^The private key from the secret handout\/key /);
      expect(message, name).not.toContain(body.slice(0, 20));
    }
  });

  it("reads a secret holding the PEM itself, or JSON with the PEM and the key ID", () => {
    expect(readKeyMaterial(`\n${pair.privatePem}\n`, "s")).toEqual({ pem: pair.privatePem.trim() });
    expect(
      readKeyMaterial(JSON.stringify({ privateKey: pair.privatePem, keyPairId: "K2JSON" }), "s"),
    ).toEqual({
      pem: pair.privatePem.trim(),
      keyPairId: "K2JSON",
    });
    expect(messageOf(() => readKeyMaterial('{"password":"hunter2"}', "the secret s"))).toBe(
      "The private key from the secret s is JSON without a PEM: put the PEM in a field named privateKey (found: password).",
    );
    expect(messageOf(() => readKeyMaterial("{not json", "the secret s"))).toMatch(
      /looks like JSON but does not parse/,
    );
  });
});

describe("Secrets Manager key source over HTTP", () => {
  let double: SecretsManagerDouble;
  beforeAll(async () => {
    double = await startSecretsManagerDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  it("fetches the secret with the real SDK client", async () => {
    double.secrets.set(
      "handout/key",
      JSON.stringify({ privateKey: pair.privatePem, keyPairId: pair.keyPairId }),
    );
    const source = secretsManagerKeySource(double.client(), "handout/key");
    const cache = new SigningKeyCache({
      source,
      configuredKeyPairId: undefined,
      maxAgeSeconds: 300,
      logger: captureLogs().logger,
    });
    await cache.start();
    expect(cache.current().keyPairId).toBe(pair.keyPairId);
    expect(cache.current().privateKey.equals(pair.privateKey)).toBe(true);
    expect(double.requests).toContain("secretsmanager.GetSecretValue handout/key");
  });

  it("says which secret and region when the secret does not exist", async () => {
    const source = secretsManagerKeySource(double.client(), "handout/missing");
    await expect(source.read()).rejects.toThrow(
      "Cannot read the secret handout/missing: there is no such secret in region us-east-1. Check CLOUDFRONT_PRIVATE_KEY_SECRET_ID and AWS_REGION.",
    );
  });
});

describe("Secrets Manager faults", () => {
  // Mock one client instance only, so other tests keep making real requests.
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const mock = mockClient(client);
  beforeEach(() => mock.reset());

  it("explains access denied, and an outage, with the fix", async () => {
    const source = secretsManagerKeySource(client, "handout/key");
    mock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    await expect(source.read()).rejects.toMatchObject({
      code: "SIGNING_KEY_UNAVAILABLE",
      message: expect.stringMatching(/access denied\. Allow secretsmanager:GetSecretValue/),
    });
    mock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
    await expect(source.read()).rejects.toThrow(/from Secrets Manager \(TimeoutError\): check the network/);
  });

  it("reads a binary secret", async () => {
    mock.on(GetSecretValueCommand).resolves({ SecretBinary: new TextEncoder().encode(pair.privatePem) });
    const source = secretsManagerKeySource(client, "handout/key");
    expect(await source.read()).toBe(pair.privatePem);
  });
});

describe("signing key cache", () => {
  /** A source whose answer the test changes, counting reads. */
  const scripted = (initial: string) => {
    const state = { text: initial as string | Error, reads: 0 };
    const source: KeyTextSource = {
      description: "the test source",
      async read() {
        state.reads++;
        if (state.text instanceof Error) throw state.text;
        return state.text;
      },
    };
    return { state, source };
  };

  it("stops start-up with the cause when the key cannot be had", async () => {
    const dir = await tempFolder("key");
    const missing = new SigningKeyCache({
      source: fileKeySource(join(dir, "nope.pem")),
      configuredKeyPairId: "K2X",
      maxAgeSeconds: 60,
      logger: captureLogs().logger,
    });
    await expect(missing.start()).rejects.toThrow(
      /nope\.pem \(it does not exist\): check CLOUDFRONT_PRIVATE_KEY_FILE/,
    );
    await writeFile(join(dir, "public.pem"), pair.publicPem);
    const wrong = new SigningKeyCache({
      source: fileKeySource(join(dir, "public.pem")),
      configuredKeyPairId: "K2X",
      maxAgeSeconds: 60,
      logger: captureLogs().logger,
    });
    await expect(wrong.start()).rejects.toMatchObject({ code: "SIGNING_KEY_INVALID" });
  });

  it("requires a key ID from the environment or from the secret", async () => {
    const { source } = scripted(pair.privatePem);
    const cache = new SigningKeyCache({
      source,
      configuredKeyPairId: undefined,
      maxAgeSeconds: 60,
      logger: captureLogs().logger,
    });
    await expect(cache.start()).rejects.toThrow(/No CloudFront public key ID .*set CLOUDFRONT_PUBLIC_KEY_ID/);
  });

  it("picks up a rotated key after the max age without a restart, while serving the old one meanwhile", async () => {
    let now = 0;
    const { state, source } = scripted(
      JSON.stringify({ privateKey: pair.privatePem, keyPairId: pair.keyPairId }),
    );
    const logs = captureLogs();
    const cache = new SigningKeyCache({
      source,
      configuredKeyPairId: undefined,
      maxAgeSeconds: 60,
      logger: logs.logger,
      now: () => now,
    });
    await cache.start();
    const next = makeKeyPair("K2NEXTKEY");
    state.text = JSON.stringify({ privateKey: next.privatePem, keyPairId: next.keyPairId });

    now = 59_000;
    expect(cache.current().keyPairId).toBe(pair.keyPairId);
    expect(state.reads).toBe(1);

    now = 60_000;
    expect(cache.current().keyPairId).toBe(pair.keyPairId); // the reload runs in the background
    await cache.reload();
    expect(cache.current().keyPairId).toBe(next.keyPairId);
    expect(logs.lines().some((line) => line.msg === "signing key rotated")).toBe(true);
  });

  it("keeps the last good key and warns when a reload fails", async () => {
    let now = 0;
    const { state, source } = scripted(pair.privatePem);
    const logs = captureLogs();
    const cache = new SigningKeyCache({
      source,
      configuredKeyPairId: "K2ENV",
      maxAgeSeconds: 60,
      logger: logs.logger,
      now: () => now,
    });
    await cache.start();
    state.text = new Error("Secrets Manager is down");
    now = 120_000;
    cache.current();
    await cache.reload();
    expect(cache.current().privateKey.equals(pair.privateKey)).toBe(true);
    const warning = logs.lines().find((line) => line.level === 40);
    expect(warning?.msg).toBe("could not reload the signing key; still signing with the last good key");
    state.text = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    await cache.reload();
    expect(cache.current().privateKey.equals(pair.privateKey)).toBe(true);
    expect(logs.text()).not.toContain(pair.privatePem.split("\n")[1]);
  });

  it("prefers the key ID stored with the key over the environment's, and says so", async () => {
    const { source } = scripted(JSON.stringify({ privateKey: pair.privatePem, keyPairId: "K2STORED" }));
    const logs = captureLogs();
    const cache = new SigningKeyCache({
      source,
      configuredKeyPairId: "K2ENV",
      maxAgeSeconds: 60,
      logger: logs.logger,
    });
    await cache.start();
    expect(cache.current().keyPairId).toBe("K2STORED");
    expect(logs.lines()[0]).toMatchObject({ secretKeyPairId: "K2STORED", configuredKeyPairId: "K2ENV" });
  });
});
