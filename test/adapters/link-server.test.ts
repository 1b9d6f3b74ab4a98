import { createSign, type KeyObject, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeKeyPath } from "../../src/domain/object-key.js";
import {
  createLinkHandler,
  type LinkHandler,
  type RunningLinkServer,
  startLinkServer,
} from "../../src/links/link-server.js";
import { cloudFrontSigner } from "../../src/signing/cloudfront-signer.js";
import { ensureLocalKeyPair } from "../../src/signing/local-keys.js";
import { parsePrivateKey } from "../../src/signing/private-key.js";
import { makeKeyPair } from "../support/keys.js";
import { captureLogs } from "../support/log.js";
import { tempFolderSync } from "../support/temp.js";

const tempDir = (label: string): string => tempFolderSync(label);

function put(root: string, key: string, content: string | Buffer = key): void {
  const path = join(root, ...key.split("/"));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

const AWKWARD_KEYS = [
  "reports/q1 2026.pdf",
  "a+b=c&d.txt",
  "100%/done.txt",
  "literal%20not-a-space.txt",
  "quotes'()!*~.txt",
  "what?.txt",
  "#hash.md",
  "caf\u00e9/na\u00efve r\u00e9sum\u00e9.txt",
  "cafe\u0301.txt", // NFD: another key than its NFC spelling
  "日本語/資料 (最終).xlsx",
  "emoji/🎉 party.png",
];

const urlSafe = (bytes: Buffer): string =>
  bytes.toString("base64").replace(/\+/g, "-").replace(/=/g, "_").replace(/\//g, "~");

/** A custom policy's query, signed the way CloudFront specifies, independently of the SDK. */
function signCustom(policy: unknown, keyPairId: string, privateKey: KeyObject): string {
  const text = JSON.stringify(policy);
  const signature = urlSafe(createSign("RSA-SHA1").update(text).sign(privateKey));
  return `Policy=${encodeURIComponent(urlSafe(Buffer.from(text)))}&Signature=${encodeURIComponent(signature)}&Key-Pair-Id=${keyPairId}`;
}

/** Signs a policy the way CloudFront specifies, independently of the SDK and of encodeKeyPath's checks. */
function signPolicy(
  resource: string,
  expiresAt: Date,
  keyPairId: string,
  privateKey: KeyObject,
  custom: boolean,
): string {
  const epochTime = Math.floor(expiresAt.getTime() / 1000);
  if (custom) {
    const policy = {
      Statement: [{ Resource: resource, Condition: { DateLessThan: { "AWS:EpochTime": epochTime } } }],
    };
    return signCustom(policy, keyPairId, privateKey);
  }
  const canned = `{"Statement":[{"Resource":${JSON.stringify(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${epochTime}}}}]}`;
  const signature = urlSafe(createSign("RSA-SHA1").update(canned).sign(privateKey));
  return `Expires=${epochTime}&Signature=${encodeURIComponent(signature)}&Key-Pair-Id=${keyPairId}`;
}

/** A request with the path exactly as given: fetch would resolve `%2E%2E` and other spellings first. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the link server", () => {
  const START = new Date("2026-03-01T12:00:00Z");
  const contents = new Map<string, Buffer>();
  const logs = captureLogs();
  let clock = START;
  let root: string;
  let outside: string;
  let running: RunningLinkServer;
  let base: string;
  let keyPairId: string;
  let privateKey: KeyObject;
  const revoked = new Set<string>();
  let sign: (
    key: string,
    validity: { expiresAt: Date; startsAt?: Date; shareId?: string },
    algorithm?: "SHA1" | "SHA256",
  ) => string;

  beforeAll(async () => {
    outside = tempDir("links");
    root = join(outside, "files");
    put(outside, "secret.txt", "THE SECRET OUTSIDE THE FOLDER");
    AWKWARD_KEYS.forEach((key, i) => {
      const content = randomBytes(2000 + i * 37);
      contents.set(key, content);
      put(root, key, content);
    });
    symlinkSync(join(outside, "secret.txt"), join(root, "leak.txt"));
    symlinkSync(join(root, ...(AWKWARD_KEYS[0] as string).split("/")), join(root, "inside-link.txt"));
    const pair = await ensureLocalKeyPair(join(root, ".handout"));
    keyPairId = pair.keyPairId;
    privateKey = parsePrivateKey(readFileSync(pair.privateKeyPath, "utf8"), "test");

    // The handler needs the port the server got, so the server asks for the handler per request.
    let handler: LinkHandler = () => false;
    running = await startLinkServer({ port: 0, handler: (req, res) => handler(req, res) });
    const domain = `127.0.0.1:${running.port}`;
    base = `http://${domain}`;
    handler = createLinkHandler({
      root,
      publicKeys: new Map([[keyPairId, pair.publicKey]]),
      domain,
      scheme: "http",
      now: () => clock,
      logger: logs.logger,
      isRevoked: async (id) => revoked.has(id),
    });
    sign = (key, validity, algorithm = "SHA1") =>
      cloudFrontSigner({
        domain,
        scheme: "http",
        algorithm,
        signingKey: () => ({ keyPairId, privateKey }),
      }).sign(key, validity).url;
  });

  afterAll(async () => {
    await running?.stop();
  });

  const inAnHour = () => new Date(clock.getTime() + 3_600_000);

  it("downloads the exact bytes of awkward keys, named for the browser", async () => {
    for (const key of AWKWARD_KEYS) {
      const response = await fetch(sign(key, { expiresAt: inAnHour() }));
      expect(response.status, key).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(contents.get(key) as Buffer), key).toBe(true);
      expect(response.headers.get("content-length")).toBe(String(contents.get(key)?.length));
      expect(response.headers.get("cache-control")).toBe("private, no-store");
      const disposition = response.headers.get("content-disposition") ?? "";
      expect(disposition).toMatch(
        /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%!._~-]+$/,
      );
      const encoded = /filename\*=UTF-8''(.+)$/.exec(disposition)?.[1] ?? "";
      expect(decodeURIComponent(encoded)).toBe(key.slice(key.lastIndexOf("/") + 1));
    }
    const pdf = await fetch(sign("reports/q1 2026.pdf", { expiresAt: inAnHour() }));
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const png = await fetch(sign("emoji/🎉 party.png", { expiresAt: inAnHour() }));
    expect(png.headers.get("content-type")).toBe("image/png");
    const sha256 = await fetch(sign("a+b=c&d.txt", { expiresAt: inAnHour() }, "SHA256"));
    expect(sha256.status).toBe(200);
    expect(sha256.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("refuses a revoked share's links, as the CloudFront Function does, and serves the others", async () => {
    const key = AWKWARD_KEYS[0] as string;
    const kept = sign(key, { expiresAt: inAnHour(), shareId: "kept-share-id" });
    const gone = sign(key, { expiresAt: inAnHour(), shareId: "revoked-share-id" });
    revoked.add("revoked-share-id");
    expect((await fetch(kept)).status).toBe(200);
    const refused = await fetch(gone);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("This link was revoked.");
  });

  it("refuses the same link once it has expired", async () => {
    const url = sign("a+b=c&d.txt", { expiresAt: inAnHour() });
    expect((await fetch(url)).status).toBe(200);
    try {
      clock = new Date(START.getTime() + 2 * 3_600_000);
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(/expired/);
    } finally {
      clock = START;
    }
  });

  it("refuses a link with one character of its signature changed, without echoing the signature", async () => {
    const url = new URL(sign("a+b=c&d.txt", { expiresAt: inAnHour() }));
    const signature = url.searchParams.get("Signature") as string;
    const changed = `${signature.slice(0, 20)}${signature[20] === "A" ? "B" : "A"}${signature.slice(21)}`;
    const response = await fetch(
      url.href.replace(encodeURIComponent(signature), encodeURIComponent(changed)),
    );
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toMatch(/signature is not valid/);
    expect(text).not.toContain(signature.slice(0, 20));
  });

  it("refuses a link whose path was swapped for another file, or whose query was removed", async () => {
    const url = sign("a+b=c&d.txt", { expiresAt: inAnHour() });
    const swapped = url.replace(`/${encodeKeyPath("a+b=c&d.txt")}?`, `/${encodeKeyPath("#hash.md")}?`);
    expect(swapped).not.toBe(url);
    const other = await fetch(swapped);
    expect(other.status).toBe(403);
    expect(await other.text()).toMatch(/signature is not valid/);
    // A custom policy names its resource, so the swap is caught as the wrong file.
    const custom = sign("a+b=c&d.txt", { startsAt: START, expiresAt: inAnHour() });
    const moved = await fetch(
      custom.replace(`/${encodeKeyPath("a+b=c&d.txt")}?`, `/${encodeKeyPath("#hash.md")}?`),
    );
    expect(moved.status).toBe(403);
    expect(await moved.text()).toMatch(/not valid for this file/);
    const bare = await fetch(url.slice(0, url.indexOf("?")));
    expect(bare.status).toBe(403);
    expect(await bare.text()).toMatch(/malformed/);
  });

  it("refuses another spelling of the signed path, as CloudFront does", async () => {
    const url = new URL(sign("caf\u00e9/na\u00efve r\u00e9sum\u00e9.txt", { expiresAt: inAnHour() }));
    const lower = url.pathname.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
    expect(lower).not.toBe(url.pathname);
    expect((await rawGet(running.port, `${url.pathname}${url.search}`)).status).toBe(200);
    expect((await rawGet(running.port, `${lower}${url.search}`)).status).toBe(403);
  });

  it("refuses a link signed with another key", async () => {
    const stranger = makeKeyPair(keyPairId);
    const forged = cloudFrontSigner({
      domain: `127.0.0.1:${running.port}`,
      scheme: "http",
      algorithm: "SHA1",
      signingKey: () => ({ keyPairId, privateKey: stranger.privateKey }),
    }).sign("a+b=c&d.txt", { expiresAt: inAnHour() });
    expect((await fetch(forged.url)).status).toBe(403);
    const unknownId = forged.url.replace(`Key-Pair-Id=${keyPairId}`, "Key-Pair-Id=K2NOSUCHKEY000");
    expect((await fetch(unknownId)).status).toBe(403);
  });

  it("refuses a link with a start time until that time comes", async () => {
    const url = sign("what?.txt", {
      startsAt: new Date(START.getTime() + 3_600_000),
      expiresAt: new Date(START.getTime() + 2 * 3_600_000),
    });
    expect(url).toContain("Policy=");
    const early = await fetch(url);
    expect(early.status).toBe(403);
    expect(await early.text()).toMatch(/not valid yet/);
    try {
      clock = new Date(START.getTime() + 90 * 60_000);
      expect((await fetch(url)).status).toBe(200);
    } finally {
      clock = START;
    }
  });

  it("answers a single byte range with 206 and the bytes asked for", async () => {
    const key = "reports/q1 2026.pdf";
    const content = contents.get(key) as Buffer;
    const url = sign(key, { expiresAt: inAnHour() });
    const ranged = async (range: string, extra: Record<string, string> = {}) => {
      const response = await fetch(url, { headers: { range, ...extra } });
      return { response, body: Buffer.from(await response.arrayBuffer()) };
    };

    const middle = await ranged("bytes=10-19");
    expect(middle.response.status).toBe(206);
    expect(middle.response.headers.get("content-range")).toBe(`bytes 10-19/${content.length}`);
    expect(middle.body.equals(content.subarray(10, 20))).toBe(true);
    const suffix = await ranged("bytes=-5");
    expect(suffix.body.equals(content.subarray(content.length - 5))).toBe(true);
    const open = await ranged("bytes=100-");
    expect(open.response.status).toBe(206);
    expect(open.body.equals(content.subarray(100))).toBe(true);

    const beyond = await ranged(`bytes=${content.length}-`);
    expect(beyond.response.status).toBe(416);
    expect(beyond.response.headers.get("content-range")).toBe(`bytes */${content.length}`);
    const several = await ranged("bytes=0-1,5-6");
    expect(several.response.status).toBe(200);
    expect(several.body.equals(content)).toBe(true);

    const etag = (await fetch(url, { method: "HEAD" })).headers.get("etag") as string;
    expect((await ranged("bytes=0-3", { "if-range": etag })).response.status).toBe(206);
    const changed = await ranged("bytes=0-3", { "if-range": '"another version"' });
    expect(changed.response.status).toBe(200);
    expect(changed.body.equals(content)).toBe(true);
  });

  it("answers HEAD with the headers and no body", async () => {
    const key = "日本語/資料 (最終).xlsx";
    const response = await fetch(sign(key, { expiresAt: inAnHour() }), { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(contents.get(key)?.length));
    expect(response.headers.get("content-type")).toBe(
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 404 for a validly signed link to a missing file", async () => {
    const response = await fetch(sign("gone.txt", { expiresAt: inAnHour() }));
    expect(response.status).toBe(404);
  });

  it("serves nothing outside the folder or hidden in it, even with a valid signature for any path", async () => {
    // A wildcard policy covers every path, so only the store stands between a request and the disk.
    const everything = signPolicy(`${base}/*`, inAnHour(), keyPairId, privateKey, true);
    const legit = await rawGet(running.port, `/${encodeKeyPath("a+b=c&d.txt")}?${everything}`);
    expect(legit.status).toBe(200);

    for (const path of [
      "/%2E%2E/secret.txt",
      "/%2e%2e/secret.txt",
      "/..%2Fsecret.txt",
      "/reports/..%2F..%2Fsecret.txt",
      "/leak.txt",
      "/inside-link.txt",
      "/.handout/private_key.pem",
      "/.handout%2Fprivate_key.pem",
      `/${encodeURIComponent(join(outside, "secret.txt"))}`,
    ]) {
      const wildcard = await rawGet(running.port, `${path}?${everything}`);
      expect(wildcard.status, path).toBe(404);
      expect(wildcard.body).not.toMatch(/SECRET|PRIVATE KEY/);
      const exact = signPolicy(`${base}${path}`, inAnHour(), keyPairId, privateKey, false);
      expect((await rawGet(running.port, `${path}?${exact}`)).status, path).toBe(404);
    }
    // The signer itself signs `.handout/…` (a dot is a valid key), so the store must be what refuses it.
    const signed = await fetch(sign(".handout/private_key.pem", { expiresAt: inAnHour() }));
    expect(signed.status).toBe(404);
    expect(await signed.text()).not.toContain("PRIVATE KEY");
  });

  it("refuses a custom policy with a condition or statement it does not evaluate, such as an address range", async () => {
    const path = `/${encodeKeyPath("a+b=c&d.txt")}`;
    const resource = `${base}${path}`;
    const until = { "AWS:EpochTime": Math.floor(inAnHour().getTime() / 1000) };
    const plain = { Resource: resource, Condition: { DateLessThan: until } };
    const ok = await rawGet(
      running.port,
      `${path}?${signCustom({ Statement: [plain] }, keyPairId, privateKey)}`,
    );
    expect(ok.status).toBe(200);
    for (const policy of [
      // The request comes from loopback, outside the range: CloudFront would refuse it.
      {
        Statement: [
          {
            Resource: resource,
            Condition: { DateLessThan: until, IpAddress: { "AWS:SourceIp": "192.0.2.0/24" } },
          },
        ],
      },
      { Statement: [{ ...plain, Condition: { DateLessThan: { ...until, "AWS:SourceIp": "192.0.2.1" } } }] },
      { Statement: [{ ...plain, Effect: "Deny" }] },
      { Statement: [plain, plain] },
      { Statement: [plain], Version: "2012-10-17" },
    ]) {
      const refused = await rawGet(running.port, `${path}?${signCustom(policy, keyPairId, privateKey)}`);
      expect(refused.status, JSON.stringify(policy)).toBe(403);
      expect(refused.body).toContain("conditions this server does not check");
    }
  });

  it("leaves /healthz, /slack/… and other methods to the app, and never logs a query string", async () => {
    const url = sign("a+b=c&d.txt", { expiresAt: inAnHour() });
    for (const path of ["/healthz", "/slack/events"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).toBe("Not found.\n");
    }
    const post = await fetch(url, { method: "POST" });
    expect(post.status).toBe(404);
    expect(await post.text()).toBe("Not found.\n");

    expect((await fetch(url.replace("Signature=", "Signature=x"))).status).toBe(403);
    const text = logs.text();
    expect(text).toMatch(/refused a link/);
    expect(text).toMatch(/served a link/);
    expect(text).not.toMatch(/Signature|Key-Pair-Id|Expires=|Policy=/);
  });
});
