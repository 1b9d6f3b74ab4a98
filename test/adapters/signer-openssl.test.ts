import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { cloudFrontSigner, resourceUrl } from "../../src/signing/cloudfront-signer.js";
import { AWKWARD_KEYS } from "../support/awkward-keys.js";
import { makeKeyPair, type TestKeyPair } from "../support/keys.js";
import { tempFolderSync } from "../support/temp.js";

// The signer checked against openssl, run as a process; the rest of its tests are in test/unit/.
const DOMAIN = "d111111abcdef8.cloudfront.net";

let pair: TestKeyPair;
let publicKeys: Map<string, import("node:crypto").KeyObject>;
let keyFile: string;

beforeAll(() => {
  pair = makeKeyPair();
  publicKeys = new Map([[pair.keyPairId, pair.publicKey]]);
  keyFile = join(tempFolderSync("signer"), "private_key.pem");
  writeFileSync(keyFile, pair.privatePem, { mode: 0o600 });
});

const signerFor = (algorithm: "SHA1" | "SHA256") =>
  cloudFrontSigner({
    domain: DOMAIN,
    algorithm,
    signingKey: () => ({ keyPairId: pair.keyPairId, privateKey: pair.privateKey }),
  });

const queryParam = (url: string, name: string): string | undefined =>
  new URLSearchParams(url.slice(url.indexOf("?") + 1)).get(name) ?? undefined;

/** openssl over the same policy text: an implementation that shares no code with the signer. */
const opensslSignature = (policy: string, algorithm: "sha1" | "sha256"): string => {
  const raw = execFileSync("openssl", ["dgst", `-${algorithm}`, "-sign", keyFile], { input: policy });
  return raw.toString("base64").replace(/\+/g, "-").replace(/=/g, "_").replace(/\//g, "~");
};

describe("signed links for awkward keys", () => {
  describe.each(AWKWARD_KEYS.map((key) => [JSON.stringify(key).slice(0, 60), key] as const))(
    "%s",
    (_, key) => {
      const now = new Date("2026-11-26T12:00:00.000Z");
      const asked = new Date("2026-12-03T12:34:56.789Z");

      it("carries a SHA-256 Signature byte-identical to openssl's over the canned policy", () => {
        const link = signerFor("SHA256").sign(key, { expiresAt: asked });
        const policy = JSON.stringify({
          Statement: [
            {
              Resource: resourceUrl("https", DOMAIN, key),
              Condition: { DateLessThan: { "AWS:EpochTime": Math.floor(asked.getTime() / 1000) } },
            },
          ],
        });
        expect(queryParam(link.url, "Hash-Algorithm")).toBe("SHA256");
        expect(queryParam(link.url, "Signature")).toBe(opensslSignature(policy, "sha256"));
        expect(verifySignedUrl(link.url, publicKeys, now).ok).toBe(true);
      });
    },
  );
});

describe("canned and custom policies", () => {
  const now = new Date("2026-11-26T12:00:00.000Z");

  it("uses a custom policy with DateGreaterThan when a start time is given, signed as openssl signs it", () => {
    const startsAt = new Date("2026-11-28T09:00:00.500Z");
    const expiresAt = new Date("2026-11-29T09:00:00.000Z");
    const link = signerFor("SHA1").sign("launch/keynote deck.pdf", { expiresAt, startsAt });
    const encodedPolicy = queryParam(link.url, "Policy") as string;
    const policy = Buffer.from(
      encodedPolicy.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"),
      "base64",
    ).toString();
    expect(JSON.parse(policy)).toEqual({
      Statement: [
        {
          Resource: resourceUrl("https", DOMAIN, "launch/keynote deck.pdf"),
          Condition: {
            DateLessThan: { "AWS:EpochTime": expiresAt.getTime() / 1000 },
            DateGreaterThan: { "AWS:EpochTime": Math.floor(startsAt.getTime() / 1000) },
          },
        },
      ],
    });
    expect(queryParam(link.url, "Expires")).toBeUndefined();
    expect(queryParam(link.url, "Signature")).toBe(opensslSignature(policy, "sha1"));
    expect(verifySignedUrl(link.url, publicKeys, now)).toEqual({ ok: false, reason: "not-yet-valid" });
    expect(verifySignedUrl(link.url, publicKeys, new Date("2026-11-28T10:00:00Z")).ok).toBe(true);
    expect(verifySignedUrl(link.url, publicKeys, expiresAt)).toEqual({ ok: false, reason: "expired" });
  });
});
