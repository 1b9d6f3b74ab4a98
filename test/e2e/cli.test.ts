import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureSampleFiles } from "../../src/files/local-store.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { ensureLocalKeyPair } from "../../src/signing/local-keys.js";
import { parsePrivateKey } from "../../src/signing/private-key.js";
import { runHandout } from "../support/cli.js";
import { handoutEnv, writeKeyAndPolicy } from "../support/handout-env.js";
import { makeKeyPair, type TestKeyPair } from "../support/keys.js";
import { childEnv } from "../support/process.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { type SecretsManagerDouble, startSecretsManagerDouble } from "../support/secrets-manager.js";
import { tempFolder } from "../support/temp.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

/** tsx's loader by path, so that the command line runs from any working directory. */
const TSX = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

/**
 * Runs the real command line in a child process, as an operator would (from `cwd`, default the root);
 * `script` `main.ts` starts the server instead.
 */
async function handout(args: string[], env: Record<string, string>, cwd = root, script = "cli.ts") {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", TSX, join(root, "src", script), ...args],
      {
        cwd,
        env: childEnv(env),
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Runs a command in-process, from the repository's root. */
const inProcess = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = root) => runHandout(args, env, cwd);

// Each run starts Node with tsx, which takes seconds on a busy machine.
describe("handout sign", { timeout: 60_000 }, () => {
  let bucket: TestBucket;
  let pair: TestKeyPair;
  let env: Record<string, string>;

  beforeAll(async () => {
    bucket = await startTestBucket();
    await bucket.put("reports/q1 2026 (final).pdf", "quarterly");
    pair = makeKeyPair();
    const { key } = await writeKeyAndPolicy(await tempFolder("cli"), pair);
    env = handoutEnv({ bucket, key });
    // An in-process run's AWS SDK reads the bucket's endpoint and credentials from the process.
    for (const [name, value] of Object.entries(bucket.env)) vi.stubEnv(name, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await bucket.stop();
  });

  it("prints a signed URL for an object that exists, valid for what was asked", async () => {
    const before = Date.now();
    const result = await handout(["sign", "reports/q1 2026 (final).pdf", "--expires", "36h"], env);
    expect(result.stderr).toMatch(/^Expires \d{4}-\d{2}-\d{2}T/m);
    expect(result.code).toBe(0);
    const url = result.stdout.trim();
    expect(url).toMatch(
      /^https:\/\/d111111abcdef8\.cloudfront\.net\/reports\/q1%202026%20%28final%29\.pdf\?Expires=\d+&Signature=/,
    );
    const verdict = verifySignedUrl(url, new Map([[pair.keyPairId, pair.publicKey]]), new Date());
    expect(verdict.ok).toBe(true);
    const expires = Number(new URL(url).searchParams.get("Expires")) * 1000;
    expect(expires).toBeGreaterThan(before + 36 * 3600_000 - 2000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 36 * 3600_000);
  });

  it("prints JSON with --json, and a custom policy with --starts", async () => {
    // A date and a start time a month and a year from now, whatever the clock says.
    const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const [starts, expires] = [day(30), day(365)];
    const result = await inProcess(
      [
        "sign",
        "reports/q1 2026 (final).pdf",
        "--expires",
        expires,
        "--starts",
        `${starts}T09:00:00Z`,
        "--json",
      ],
      env,
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { url: string; key: string; expiresAt: string };
    expect(output.key).toBe("reports/q1 2026 (final).pdf");
    expect(output.expiresAt).toBe(`${expires}T00:00:00.000Z`);
    expect(output.url).toContain("?Policy=");
    const verdict = verifySignedUrl(
      output.url,
      new Map([[pair.keyPairId, pair.publicKey]]),
      new Date(`${starts}T10:00:00Z`),
    );
    expect(verdict.ok).toBe(true);
    expect(
      verifySignedUrl(
        output.url,
        new Map([[pair.keyPairId, pair.publicKey]]),
        new Date(`${starts}T08:00:00Z`),
      ),
    ).toEqual({ ok: false, reason: "not-yet-valid" });
  });

  it("refuses an object that is not in the bucket, unless --no-check", async () => {
    const missing = await inProcess(["sign", "reports/q2.pdf", "--expires", "7d"], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain('There is no file "reports/q2.pdf" in the bucket handout-test');
    const unchecked = await inProcess(["sign", "reports/q2.pdf", "--expires", "7d", "--no-check"], env);
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).toMatch(/^https:\/\/d111111abcdef8\.cloudfront\.net\/reports\/q2\.pdf\?/);
  });

  it("exits 2 with usage for bad arguments, before touching anything", async () => {
    for (const args of [
      ["sign"],
      ["sign", "a.pdf"],
      ["sign", "a.pdf", "--expires", "soon"],
      ["sign", "a.pdf", "--expires", "2020-01-01"],
      ["sign", "a/../b.pdf", "--expires", "7d"],
      ["sign", "a.pdf", "--expires", "7d", "--starts", "8d"],
      ["sign", "a.pdf", "--expires", "7d", "--bogus"],
      ["frobnicate"],
    ]) {
      const result = await inProcess(args, {});
      expect(result.code, args.join(" ")).toBe(2);
      // Run in-process from the checkout's root: the command line as it runs from there.
      expect(result.stderr, args.join(" ")).toContain("Usage:\n  npx tsx src/cli.ts sign KEY");
    }
  });

  it("exits 1 naming each missing setting", async () => {
    const result = await inProcess(["sign", "a.pdf", "--expires", "7d"], { HANDOUT_BUCKET: "team-files" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("CLOUDFRONT_DOMAIN is not set");
    expect(result.stderr).toContain("CLOUDFRONT_PRIVATE_KEY_SECRET_ID is not set");
  });
});

describe("advice for the secret that holds the private key", () => {
  let secrets: SecretsManagerDouble;
  let env: Record<string, string>;

  beforeAll(async () => {
    secrets = await startSecretsManagerDouble();
    secrets.empty.add("handout/empty");
    secrets.deleted.add("handout/deleted");
    const dir = await tempFolder("secret");
    await writeFile(
      join(dir, "access.yml"),
      "rules:\n  - who: { everyone: true }\n    prefixes: [reports/]\n",
    );
    env = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_MAX_ATTEMPTS: "1",
      HANDOUT_BUCKET: "handout-test",
      CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
      CLOUDFRONT_PUBLIC_KEY_ID: "K2JCJMDEHXQW5F",
      HANDOUT_POLICY_FILE: join(dir, "access.yml"),
      HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
    };
    for (const [name, value] of Object.entries(env)) if (name.startsWith("AWS_")) vi.stubEnv(name, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await secrets.stop();
  });

  // In-process: a process round trip is the start-up's.
  const sign = (secretId: string) =>
    inProcess(["sign", "reports/q1.pdf", "--expires", "1h", "--no-check"], {
      ...env,
      CLOUDFRONT_PRIVATE_KEY_SECRET_ID: secretId,
    });
  const start = (secretId: string) =>
    handout([], { ...env, CLOUDFRONT_PRIVATE_KEY_SECRET_ID: secretId }, root, "main.ts");

  for (const { state, secretId, says, command, notSaid } of [
    {
      state: "a secret with no value yet needs the key put in it",
      secretId: "handout/empty",
      says: "it exists but holds no value yet.",
      command:
        "put-secret-value --secret-id handout/empty --region us-east-1 --secret-string file://keys/private_key.pem",
      notSaid: "no such secret",
    },
    {
      state: "a secret scheduled for deletion needs restoring",
      secretId: "handout/deleted",
      says: "it is scheduled for deletion.",
      command: "restore-secret --secret-id handout/deleted --region us-east-1",
      notSaid: "check the network",
    },
  ]) {
    it(`says ${state}, in handout sign and at start-up`, async () => {
      for (const result of await Promise.all([sign(secretId), start(secretId)])) {
        expect(result.code).toBe(1);
        const said = result.stdout + result.stderr;
        expect(said).toContain(`Cannot read the secret ${secretId}: ${says}`);
        expect(said).toContain(`\`aws secretsmanager ${command}\``);
        expect(said).not.toContain(notSaid);
      }
    });
  }
});

describe("handout keys generate", () => {
  it("writes a PKCS#8 private key readable only by its owner, and prints the next steps", async () => {
    const dir = await tempFolder("keys");
    const result = await inProcess(["keys", "generate", "--out", "keys"], {}, dir);
    expect(result.code).toBe(0);
    const privatePath = join(dir, "keys", "private_key.pem");
    const privatePem = await readFile(privatePath, "utf8");
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect((await stat(privatePath)).mode & 0o777).toBe(0o600);
    const publicPem = await readFile(join(dir, "keys", "public_key.pem"), "utf8");
    const privateKey = parsePrivateKey(privatePem, "generated");
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(privateKey).export({ type: "spki", format: "pem" })).toBe(publicPem);
    const config = JSON.parse(await readFile(join(dir, "keys", "public-key-config.json"), "utf8")) as {
      EncodedKey: string;
    };
    expect(config.EncodedKey).toBe(publicPem);
    expect(result.stdout).toContain(publicPem);
    expect(result.stdout).toContain(
      `aws cloudfront create-public-key --public-key-config file://${join(dir, "keys", "public-key-config.json")}`,
    );
    expect(result.stdout).toContain("aws cloudfront create-key-group");
    expect(result.stdout).toContain("aws secretsmanager create-secret");
    expect(result.stdout).not.toContain(privatePem.split("\n")[1]);
  });

  it("never overwrites an existing key", async () => {
    const dir = await tempFolder("keys");
    await writeFile(join(dir, "private_key.pem"), "old key");
    const result = await inProcess(["keys", "generate"], {}, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("private_key.pem already exists: Handout never overwrites a key");
    expect(await readFile(join(dir, "private_key.pem"), "utf8")).toBe("old key");
  });
});

describe("handout policy check", () => {
  it("prints who gets which prefixes for how long", async () => {
    const result = await inProcess(["policy", "check", "access.example.yml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("✓ access.example.yml is valid: 4 rules.");
    expect(result.stdout).toContain(
      [
        "Finance reports",
        "  who:      groups @finance, S0123ABCD; members of C0123ABCD",
        "  shares:   reports/, finance/2026/",
        "  expiry:   up to 90 days (offered first: 1 week)",
        "  announce: yes",
      ].join("\n"),
    );
    expect(result.stdout).toContain("  shares:   the whole bucket");
    expect(result.stdout).toContain("members of C0456EFGH (guests included)");
  });

  it("reads HANDOUT_POLICY_FILE by default and fails with the file, line and fix", async () => {
    const dir = await tempFolder("policy");
    const file = join(dir, "access.yml");
    await writeFile(file, "rules:\n  - who: {everyone: true}\n    prefixes: ['']\n");
    const result = await inProcess(["policy", "check"], { HANDOUT_POLICY_FILE: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}:3: rule 1: prefix "": an empty prefix would grant the whole bucket`,
    );
  });
});

describe("handout ledger init", () => {
  it("creates the SQLite ledger HANDOUT_LEDGER names", async () => {
    const dir = await tempFolder("ledger");
    const file = join(dir, "shares.db");
    const result = await inProcess(["ledger", "init"], { HANDOUT_LEDGER: `sqlite:${file}` });
    expect(result).toMatchObject({ code: 0, stdout: `✓ The SQLite ledger ${file} is ready.\n` });
    expect((await stat(file)).size).toBeGreaterThan(0);
    expect((await inProcess(["ledger", "drop"])).code).toBe(2);
  });
});

describe("settings in .env", { timeout: 60_000 }, () => {
  it("are read from the working directory, and the environment's own win", async () => {
    const dir = await tempFolder("dotenv");
    await mkdir(join(dir, "files"));
    await writeFile(join(dir, "files", "welcome.txt"), "hello");
    await writeFile(
      join(dir, ".env"),
      [
        "# As .env.example has them: comments, and a comment after a value",
        "HANDOUT_LOCAL_DIR=./files",
        "HANDOUT_STATE_DIR=./state   # where the key pair is kept",
        "PORT=4321",
        "",
      ].join("\n"),
    );
    // The key pair `npm start` makes in ./state, which `handout sign` signs with.
    await ensureLocalKeyPair(join(dir, "state"));
    const fromFile = await handout(["sign", "welcome.txt", "--expires", "1h"], {}, dir);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/^http:\/\/localhost:4321\/welcome\.txt\?Expires=/);
    const overridden = await handout(["sign", "welcome.txt", "--expires", "1h"], { PORT: "4999" }, dir);
    expect(overridden.stdout).toMatch(/^http:\/\/localhost:4999\/welcome\.txt\?/);
  });
});

describe("the embedded default, as its own tools see it with nothing configured", () => {
  let dir: string;
  /** Only the folders, so that nothing outside this test's folder is read or made. */
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "handout-first-run-"));
    env = { HANDOUT_LOCAL_DIR: "./files", HANDOUT_STATE_DIR: "./state" };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("sign makes no key pair: it names the folder it looked in and how to point it there", async () => {
    const result = await inProcess(["sign", "welcome.txt", "--expires", "1h"], env, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`There is no signing key in ${join(dir, "state")} (HANDOUT_STATE_DIR)`);
    expect(result.stderr).toContain("set HANDOUT_STATE_DIR");
    await expect(stat(join(dir, "state"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(join(dir, "files"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("doctor reports the embedded default as it is, with no ✗, and exits 0", async () => {
    const before = await inProcess(["doctor"], env, dir);
    expect(before.stdout).not.toContain("✗");
    expect(before.stdout).toContain(
      `✓ Access policy — no ${join(dir, "access.yml")}, so the built-in trial policy is in force`,
    );
    expect(before.stdout).toContain(`✓ Signing key — none in ${join(dir, "state")} yet`);
    expect(before.stdout).toContain("- Slack token — skipped: Slack is not configured");
    expect(before.code).toBe(0);

    // Once the server has made its key and folder, the doctor names the key.
    const pair = await ensureLocalKeyPair(join(dir, "state"));
    await mkdir(join(dir, "files"));
    await writeFile(join(dir, "files", "welcome.txt"), "hello");
    const after = await inProcess(["doctor"], env, dir);
    expect(after.stdout).toContain(`✓ Signing key — the key pair ${pair.keyPairId} in ${join(dir, "state")}`);
    expect(after.stdout).toContain(`✓ Local folder — ${join(dir, "files")}, served by Handout itself`);
    expect(after.code).toBe(0);
  });

  it("sign uses the key pair the server made, and says which folder it is in", async () => {
    const pair = await ensureLocalKeyPair(join(dir, "state"));
    expect(pair.created).toBe(false);
    const result = await inProcess(["sign", "welcome.txt", "--expires", "1h"], env, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Signed with the key in ${join(dir, "state")} (HANDOUT_STATE_DIR)`);
    const url = new URL(result.stdout.trim());
    expect(url.searchParams.get("Key-Pair-Id")).toBe(pair.keyPairId);
  });

  it("index stats indexes for the trial policy when access.yml does not exist, as the server does", async () => {
    const result = await inProcess(["index", "stats"], env, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Indexed the local folder ${join(dir, "files")} (the whole bucket)`);
    expect(result.stdout).toMatch(/files: +1\n/);
  });

  it("refuses a HANDOUT_POLICY_FILE that does not exist, rather than fall back to the trial policy", async () => {
    const result = await inProcess(["index", "stats"], { ...env, HANDOUT_POLICY_FILE: "acess.yml" }, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("HANDOUT_POLICY_FILE names this file, which does not exist");
    const doctor = await inProcess(["doctor"], { ...env, HANDOUT_POLICY_FILE: "acess.yml" }, dir);
    expect(doctor.stdout).toMatch(/✗ Access policy — .*acess\.yml: HANDOUT_POLICY_FILE names this file/);
    expect(doctor.code).toBe(1);
  });
});

describe("the command line's own words", () => {
  it("prints itself as it runs here: `handout` where that is on the PATH, the checkout's entry otherwise", async () => {
    const fromRoot = await inProcess(["help"], { PATH: process.env.PATH ?? "" });
    expect(fromRoot.stdout).toContain("\n  npx tsx src/cli.ts sign KEY --expires");
    const elsewhere = await inProcess(["help"], {}, await tempFolder("cli-elsewhere"));
    expect(elsewhere.stdout).toContain(`\n  npx tsx ${join(root, "src", "cli.ts")} sign KEY`);
    // As `npm install -g` puts it: a `handout` on the PATH that is this command line.
    const bin = await tempFolder("cli-bin");
    await symlink(join(root, "src", "cli.ts"), join(bin, "handout"));
    const installed = await inProcess(["help"], { PATH: `${bin}:${process.env.PATH}` });
    expect(installed.stdout).toContain("\n  handout sign KEY --expires");
  });

  it("runs as printed: the usage's command line, typed into a shell, works", async () => {
    const printed = (await inProcess(["help"], { PATH: process.env.PATH ?? "" })).stdout;
    const command = /^ {2}(.+) --version$/m.exec(printed)?.[1];
    expect(command).toBe("npx tsx src/cli.ts");
    const { stdout } = await run("/bin/sh", ["-c", `${command} --version`], { cwd: root });
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };
    expect(stdout).toBe(`handout ${pkg.version}\n`);
  });

  it("answers `sign --help` with sign's usage, and exits 0 without signing anything", async () => {
    const result = await inProcess(["sign", "--help"], { HANDOUT_BUCKET: "team-files" });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(
      /^Usage:\n {2}npx tsx src\/cli\.ts sign KEY --expires \S+ \[--starts WHEN\]/,
    );
    expect((await inProcess(["doctor", "-h"])).stdout).toBe("Usage:\n  npx tsx src/cli.ts doctor\n");
  });

  it("names an unknown or incomplete option plainly, not in Node's parser's words", async () => {
    const unknown = await inProcess(["sign", "a.pdf", "--expires", "7d", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Unknown option --bogus for sign\.\n\nUsage:/);
    expect(unknown.stderr).not.toContain("positional argument");
    const missing = await inProcess(["sign", "a.pdf", "--expires"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^--expires needs a value, as in --expires VALUE\.\n/);
  });

  it("signs, from the README, only files that are among the embedded default's samples", async () => {
    const samples = await tempFolder("cli-samples");
    await ensureSampleFiles(samples);
    const readme = await readFile(join(root, "README.md"), "utf8");
    const keys = [...readme.matchAll(/^(?:handout|npx tsx src\/cli\.ts) sign ("[^"]+"|\S+)/gm)].map((m) =>
      (m[1] as string).replace(/^"|"$/g, ""),
    );
    expect(keys.length).toBeGreaterThan(2);
    for (const key of keys) {
      expect((await stat(join(samples, ...key.split("/"))).catch(() => undefined))?.isFile(), key).toBe(true);
    }
  });
});
