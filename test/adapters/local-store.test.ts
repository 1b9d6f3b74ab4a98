import { createPublicKey } from "node:crypto";
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ensureSampleFiles,
  localFileCatalog,
  localPageSource,
  openLocalFile,
} from "../../src/files/local-store.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { type ListRequest, listBucket, type PageSource } from "../../src/search/lister.js";
import { cloudFrontSigner } from "../../src/signing/cloudfront-signer.js";
import { keyPairIdFor } from "../../src/signing/key-pair.js";
import { ensureLocalKeyPair } from "../../src/signing/local-keys.js";
import { parsePrivateKey } from "../../src/signing/private-key.js";
import { tempFolderSync } from "../support/temp.js";

const tempDir = (label: string): string => tempFolderSync(label);

function put(root: string, key: string, content: string | Buffer = key): void {
  const path = join(root, ...key.split("/"));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

interface Listing {
  keys: string[];
  folders: string[];
  pages: number;
}

async function listAll(source: PageSource, request: ListRequest): Promise<Listing> {
  const listing: Listing = { keys: [], folders: [], pages: 0 };
  let continuationToken: string | undefined;
  do {
    const page = await source.listPage({ ...request, ...(continuationToken ? { continuationToken } : {}) });
    listing.pages++;
    listing.keys.push(...page.objects.map((object) => object.key));
    listing.folders.push(...page.folders);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return listing;
}

/** Keys chosen so that S3's UTF-8 byte order differs from a tree walk's and from JavaScript's sort. */
const VISIBLE = [
  "a-b.txt",
  "a.txt",
  "a/x.txt",
  "a0.txt",
  "b/c/d.txt",
  "handbook/Caf\u00e9 menu.txt",
  "reports/q1 2026.pdf",
  "z.txt",
  "\uff21.txt", // FULLWIDTH A: UTF-8 EF BC A1, UTF-16 FF21
  "\u{1f600}.txt", // UTF-8 F0 9F 98 80, UTF-16 D83D DE00: JavaScript sorts it before the one above
];
const HIDDEN = [".hidden", ".handout/private_key.pem", "a/.DS_Store", "b/.secret/x.txt"];

function visibleTree(): string {
  const root = join(tempDir("store"), "files");
  for (const key of [...VISIBLE, ...HIDDEN]) put(root, key);
  mkdirSync(join(root, "empty", "deeper"), { recursive: true });
  return root;
}

describe("a local folder as the bucket", () => {
  it("lists every visible file in S3's UTF-8 byte order, leaving out hidden files and empty folders", async () => {
    const root = visibleTree();
    const page = await localPageSource(root).listPage({ prefix: "" });
    expect(page.objects.map((object) => object.key)).toEqual(VISIBLE);
    expect([...VISIBLE].sort()).not.toEqual(VISIBLE);
    expect(page.continuationToken).toBeUndefined();
    const first = page.objects[0];
    const facts = statSync(join(root, "a-b.txt"));
    expect(first).toEqual({ key: "a-b.txt", size: facts.size, lastModified: facts.mtimeMs });
  });

  it("pages 2,500 files a thousand at a time, resuming from each token and from startAfter", async () => {
    const root = join(tempDir("bulk"), "files");
    const keys = Array.from({ length: 2500 }, (_, i) => {
      const name = `${i}${i % 3 === 0 ? " é" : i % 3 === 1 ? "-x" : ""}.txt`;
      return i % 5 === 0 ? name : `folder ${i % 4}/${i % 2 ? "sub/" : ""}${name}`;
    });
    for (const key of keys) put(root, key, "x");
    const expected = [...keys].sort(byteOrder);

    const source = localPageSource(root);
    const sizes: number[] = [];
    let token: string | undefined;
    const listed: string[] = [];
    do {
      const page = await source.listPage({ prefix: "", ...(token ? { continuationToken: token } : {}) });
      sizes.push(page.objects.length);
      listed.push(...page.objects.map((object) => object.key));
      token = page.continuationToken;
    } while (token);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(listed).toEqual(expected);

    const after = expected[1234] as string;
    expect((await listAll(source, { prefix: "", startAfter: after })).keys).toEqual(expected.slice(1235));
    const under = expected.filter((key) => key.startsWith("folder 1/"));
    expect((await listAll(source, { prefix: "folder 1/" })).keys).toEqual(under);

    // The bucket index's parallel lister, splitting by folders, sees each file exactly once.
    const seen: string[] = [];
    await listBucket(localPageSource(root, 100), [""], {
      concurrency: 4,
      splitDepth: 2,
      onObjects: (objects) => seen.push(...objects.map((object) => object.key)),
    });
    expect(seen.sort(byteOrder)).toEqual(expected);
  });

  it("groups keys into folders with a delimiter, across pages, and lists from a partial prefix", async () => {
    const root = visibleTree();
    const source = localPageSource(root);
    const whole = await source.listPage({ prefix: "", delimited: true });
    expect(whole.objects.map((object) => object.key)).toEqual([
      "a-b.txt",
      "a.txt",
      "a0.txt",
      "z.txt",
      "\uff21.txt",
      "\u{1f600}.txt",
    ]);
    expect(whole.folders).toEqual(["a/", "b/", "handbook/", "reports/"]);

    const paged = await listAll(localPageSource(root, 2), { prefix: "", delimited: true });
    expect(paged.pages).toBe(5);
    expect(paged.keys).toEqual(whole.objects.map((object) => object.key));
    expect(paged.folders).toEqual(whole.folders);

    expect(await source.listPage({ prefix: "b/", delimited: true })).toEqual({
      objects: [],
      folders: ["b/c/"],
      continuationToken: undefined,
    });
    expect((await listAll(source, { prefix: "a" })).keys).toEqual(["a-b.txt", "a.txt", "a/x.txt", "a0.txt"]);
    const afterA0 = await listAll(source, { prefix: "", delimited: true, startAfter: "a0.txt" });
    expect(afterA0.folders).toEqual(["b/", "handbook/", "reports/"]);
    expect(afterA0.keys).toEqual(["z.txt", "\uff21.txt", "\u{1f600}.txt"]);
    expect((await listAll(source, { prefix: ".handout/" })).keys).toEqual([]);
    expect((await listAll(source, { prefix: "empty/" })).keys).toEqual([]);
  });

  it("states files, and nothing for folders, missing or hidden files, or keys that leave the folder", async () => {
    const root = visibleTree();
    put(dirname(root), "outside.txt", "not yours");
    const catalog = localFileCatalog(root);
    const facts = statSync(join(root, "reports", "q1 2026.pdf"));
    expect(await catalog.stat("reports/q1 2026.pdf")).toEqual({
      key: "reports/q1 2026.pdf",
      size: facts.size,
      lastModified: facts.mtime,
    });
    for (const key of [
      "a",
      "b/c",
      "missing.txt",
      ".hidden",
      ".handout/private_key.pem",
      "b/.secret/x.txt",
      "../outside.txt",
      "a/../../outside.txt",
      "/etc/passwd",
      join(dirname(root), "outside.txt"),
    ]) {
      expect(await catalog.stat(key), key).toBeUndefined();
    }
    expect(await localFileCatalog(join(root, "no such folder")).stat("a.txt")).toBeUndefined();
  });

  it("offers and states no symlink, not even one to a file inside the folder, nor anything through a symlinked folder", async () => {
    const root = visibleTree();
    const outside = dirname(root);
    put(outside, "secret.txt", "the secret");
    put(outside, "elsewhere/file.txt", "elsewhere");
    put(root, "finance/invoice-001.pdf", "finance's invoice");
    mkdirSync(join(root, "eng"));
    // A grant of eng/ must not reach finance's file through a link.
    symlinkSync(join(root, "finance", "invoice-001.pdf"), join(root, "eng", "quarterly-link.txt"));
    symlinkSync(join(root, "z.txt"), join(root, "inside-link.txt"));
    symlinkSync(join(outside, "secret.txt"), join(root, "out-link.txt"));
    symlinkSync(join(root, ".handout", "private_key.pem"), join(root, "key-link.txt"));
    symlinkSync(join(outside, "elsewhere"), join(root, "out-dir"));
    symlinkSync(join(root, "a"), join(root, "in-dir"));
    const catalog = localFileCatalog(root);

    for (const key of [
      "eng/quarterly-link.txt",
      "inside-link.txt",
      "out-link.txt",
      "key-link.txt",
      "out-dir/file.txt",
      "in-dir/x.txt",
    ]) {
      expect(await catalog.stat(key), key).toBeUndefined();
      expect(await openLocalFile(root, key), key).toBeUndefined();
    }
    expect(await catalog.stat("finance/invoice-001.pdf")).toMatchObject({ size: "finance's invoice".length });
    const listing = await listAll(localPageSource(root), { prefix: "" });
    expect(listing.keys).toEqual([...VISIBLE, "finance/invoice-001.pdf"].sort(byteOrder));
    expect((await listAll(localPageSource(root), { prefix: "eng/" })).keys).toEqual([]);
    const folders = await listAll(localPageSource(root), { prefix: "", delimited: true });
    expect(folders.folders).toEqual(["a/", "b/", "finance/", "handbook/", "reports/"]);
    expect((await listAll(localPageSource(root), { prefix: "out-dir/" })).keys).toEqual([]);
  });

  it("creates sample files on first run only", async () => {
    const root = join(tempDir("samples"), "files");
    expect(await ensureSampleFiles(root)).toBe(true);
    const keys = (await listAll(localPageSource(root), { prefix: "" })).keys;
    expect(keys).toEqual(["handbook/Caf\u00e9 menu.txt", "reports/2026/q1 summary.txt", "welcome.txt"]);
    writeFileSync(join(root, "welcome.txt"), "edited");
    expect(await ensureSampleFiles(root)).toBe(false);
    expect(readFileSync(join(root, "welcome.txt"), "utf8")).toBe("edited");

    const used = tempDir("used");
    put(used, "mine.pdf");
    expect(await ensureSampleFiles(used)).toBe(false);
    expect((await listAll(localPageSource(used), { prefix: "" })).keys).toEqual(["mine.pdf"]);
  });
});

describe("the local key pair", () => {
  it("is created once, private key mode 0600, with an ID that stays the same", async () => {
    const dir = join(tempDir("keys"), "nested", ".handout");
    const first = await ensureLocalKeyPair(dir);
    expect(first.created).toBe(true);
    expect(first.privateKeyPath).toBe(join(dir, "private_key.pem"));
    expect(statSync(first.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(first.keyPairId).toMatch(/^K[A-Z2-7]{13}$/);
    const pem = readFileSync(first.privateKeyPath, "utf8");
    expect(pem).toContain("-----BEGIN PRIVATE KEY-----");

    const second = await ensureLocalKeyPair(dir);
    expect(second.created).toBe(false);
    expect(second.keyPairId).toBe(first.keyPairId);
    expect(readFileSync(first.privateKeyPath, "utf8")).toBe(pem);
    const written = createPublicKey(readFileSync(join(dir, "public_key.pem"), "utf8"));
    expect(keyPairIdFor(written)).toBe(first.keyPairId);

    const other = await ensureLocalKeyPair(tempDir("other-keys"));
    expect(other.created).toBe(true);
    expect(other.keyPairId).not.toBe(first.keyPairId);

    // The pair works end to end: what the private key signs, the public key verifies.
    const link = cloudFrontSigner({
      domain: "localhost:3000",
      scheme: "http",
      algorithm: "SHA1",
      signingKey: () => ({ keyPairId: first.keyPairId, privateKey: parsePrivateKey(pem, "test") }),
    }).sign("welcome.txt", { expiresAt: new Date(Date.now() + 3_600_000) });
    const keys = new Map([[second.keyPairId, second.publicKey]]);
    expect(verifySignedUrl(link.url, keys, new Date())).toMatchObject({ ok: true });
  });
});
