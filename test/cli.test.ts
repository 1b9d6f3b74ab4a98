import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignedUrl } from "../src/adapters/cloudfront-verify.js";
import { ensureSampleFiles } from "../src/adapters/local-store.js";
import { parsePrivateKey } from "../src/adapters/private-key.js";
import { runHandout } from "./support/cli.js";
import { makeKeyPair, type TestKeyPair } from "./support/keys.js";
import { startTestBucket, type TestBucket } from "./support/s3.js";
import { tempFolder } from "./support/temp.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** tsx's loader by path, so that the command line runs from any working directory. */
const TSX = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** Runs the real command line in a child process, as an operator would (from `cwd`, default the root). */
async function handout(args: string[], env: Record<string, string>, cwd = root) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", TSX, join(root, "src", "cli.ts"), ...args],
      {
        cwd,
        env: { PATH: process.env.PATH ?? "", ...env },
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

describe("handout sign", () => {
  let bucket: TestBucket;
  let pair: TestKeyPair;
  let env: Record<string, string>;

  beforeAll(async () => {
    bucket = await startTestBucket();
    await bucket.put("reports/q1 2026 (final).pdf", "quarterly");
    pair = makeKeyPair();
    const dir = await tempFolder("cli");
    await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
    env = {
      ...bucket.env,
      CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
      CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
      CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
    };
  });
  afterAll(async () => {
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
    const result = await handout(
      [
        "sign",
        "reports/q1 2026 (final).pdf",
        "--expires",
        "2099-01-31",
        "--starts",
        "2099-01-01T09:00:00Z",
        "--json",
      ],
      env,
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { url: string; key: string; expiresAt: string };
    expect(output.key).toBe("reports/q1 2026 (final).pdf");
    expect(output.expiresAt).toBe("2099-01-31T00:00:00.000Z");
    expect(output.url).toContain("?Policy=");
    const verdict = verifySignedUrl(
      output.url,
      new Map([[pair.keyPairId, pair.publicKey]]),
      new Date("2099-01-02T00:00:00Z"),
    );
    expect(verdict.ok).toBe(true);
  });

  it("refuses an object that is not in the bucket, unless --no-check", async () => {
    const missing = await handout(["sign", "reports/q2.pdf", "--expires", "7d"], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain('There is no file "reports/q2.pdf" in the bucket handout-test');
    const unchecked = await handout(["sign", "reports/q2.pdf", "--expires", "7d", "--no-check"], env);
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

describe("settings in .env", () => {
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
    const fromFile = await handout(["sign", "welcome.txt", "--expires", "1h"], {}, dir);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/^http:\/\/localhost:4321\/welcome\.txt\?Expires=/);
    const overridden = await handout(["sign", "welcome.txt", "--expires", "1h"], { PORT: "4999" }, dir);
    expect(overridden.stdout).toMatch(/^http:\/\/localhost:4999\/welcome\.txt\?/);
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
