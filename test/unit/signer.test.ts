import { getSignedUrl as independentSign } from "aws-cloudfront-sign";
import { beforeAll, describe, expect, it } from "vitest";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { cloudFrontSigner, resourceUrl } from "../../src/signing/cloudfront-signer.js";
import { AWKWARD_KEYS, longKey } from "../support/awkward-keys.js";
import { makeKeyPair, type TestKeyPair } from "../support/keys.js";

const DOMAIN = "d111111abcdef8.cloudfront.net";

let pair: TestKeyPair;
let publicKeys: Map<string, import("node:crypto").KeyObject>;

beforeAll(() => {
  pair = makeKeyPair();
  publicKeys = new Map([[pair.keyPairId, pair.publicKey]]);
});

const signerFor = (algorithm: "SHA1" | "SHA256") =>
  cloudFrontSigner({
    domain: DOMAIN,
    algorithm,
    signingKey: () => ({ keyPairId: pair.keyPairId, privateKey: pair.privateKey }),
  });

const queryParam = (url: string, name: string): string | undefined =>
  new URLSearchParams(url.slice(url.indexOf("?") + 1)).get(name) ?? undefined;

const pathOf = (url: string): string => url.slice(`https://${DOMAIN}/`.length, url.indexOf("?"));

/**
 * aws-cloudfront-sign refuses an expiry before the real clock, so what is compared with it expires a day
 * from now, on a whole second.
 */
const aDayFromNow = (): Date => new Date((Math.floor(Date.now() / 1000) + 86_400) * 1000);

describe("signed links for awkward keys", () => {
  it("uses a 1,024-byte key in the corpus", () => {
    expect(Buffer.byteLength(longKey)).toBe(1024);
  });

  describe.each(AWKWARD_KEYS.map((key) => [JSON.stringify(key).slice(0, 60), key] as const))(
    "%s",
    (_, key) => {
      const now = new Date("2026-11-26T12:00:00.000Z");
      const asked = new Date("2026-12-03T12:34:56.789Z");

      it("encodes the path with RFC 3986 unreserved characters only, and decodes back to exactly the key", () => {
        const { url } = signerFor("SHA1").sign(key, { expiresAt: asked });
        const path = pathOf(url);
        expect(path).toMatch(/^[A-Za-z0-9\-._~%/]+$/);
        expect(decodeURIComponent(path)).toBe(key);
        expect(new URL(url).pathname).toBe(`/${path}`);
      });

      it("verifies with the public key against the policy it carries, and expires within a second of what was asked", () => {
        const link = signerFor("SHA1").sign(key, { expiresAt: asked });
        const verdict = verifySignedUrl(link.url, publicKeys, now);
        expect(verdict).toEqual({
          ok: true,
          resource: resourceUrl("https", DOMAIN, key),
          expiresAt: link.expiresAt,
        });
        const expires = Number(queryParam(link.url, "Expires"));
        expect(asked.getTime() / 1000 - expires).toBeGreaterThanOrEqual(0);
        expect(asked.getTime() / 1000 - expires).toBeLessThan(1);
        expect(link.expiresAt.getTime()).toBe(expires * 1000);
      });

      it("carries a Signature byte-identical to aws-cloudfront-sign's for the same URL, key and expiry", () => {
        const whole = aDayFromNow();
        const link = signerFor("SHA1").sign(key, { expiresAt: whole });
        const reference = independentSign(resourceUrl("https", DOMAIN, key), {
          keypairId: pair.keyPairId,
          privateKeyString: pair.privatePem,
          expireTime: whole.getTime(),
        });
        expect(queryParam(link.url, "Signature")).toBe(new URL(reference).searchParams.get("Signature"));
      });
    },
  );
});

describe("canned and custom policies", () => {
  const now = new Date("2026-11-26T12:00:00.000Z");

  it("uses a canned policy (Expires, Signature, Key-Pair-Id) when no start time is given", () => {
    const { url } = signerFor("SHA1").sign("reports/a.pdf", { expiresAt: new Date("2026-11-27T00:00:00Z") });
    const names = [...new URLSearchParams(url.slice(url.indexOf("?") + 1)).keys()];
    expect(names).toEqual(["Expires", "Signature", "Key-Pair-Id"]);
    expect(queryParam(url, "Key-Pair-Id")).toBe(pair.keyPairId);
  });

  it("signs with whichever key the provider returns now, so a rotated key is used at once", () => {
    const next = makeKeyPair("K2ROTATEDKEY22");
    let current = { keyPairId: pair.keyPairId, privateKey: pair.privateKey };
    const signer = cloudFrontSigner({ domain: DOMAIN, algorithm: "SHA1", signingKey: () => current });
    const before = signer.sign("a.txt", { expiresAt: new Date("2026-11-27T00:00:00Z") });
    current = { keyPairId: next.keyPairId, privateKey: next.privateKey };
    const after = signer.sign("a.txt", { expiresAt: new Date("2026-11-27T00:00:00Z") });
    const keys = new Map([...publicKeys, [next.keyPairId, next.publicKey]]);
    expect(queryParam(after.url, "Key-Pair-Id")).toBe(next.keyPairId);
    expect(verifySignedUrl(before.url, keys, now).ok).toBe(true);
    expect(verifySignedUrl(after.url, keys, now).ok).toBe(true);
  });
});

describe("tampering", () => {
  const now = new Date("2026-11-26T12:00:00.000Z");
  const link = () =>
    signerFor("SHA1").sign("reports/q1.pdf", { expiresAt: new Date("2026-11-27T00:00:00Z") }).url;

  it("refuses a link for another key, a later expiry, a changed signature byte, or an unknown key pair", () => {
    const url = link();
    expect(verifySignedUrl(url.replace("q1.pdf", "q2.pdf"), publicKeys, now)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    const expires = queryParam(url, "Expires") as string;
    expect(verifySignedUrl(url.replace(expires, String(Number(expires) + 1)), publicKeys, now).ok).toBe(
      false,
    );
    const signature = queryParam(url, "Signature") as string;
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    expect(verifySignedUrl(url.replace(signature, flipped), publicKeys, now)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    expect(verifySignedUrl(url, new Map(), now)).toEqual({ ok: false, reason: "unknown-key-pair" });
    expect(verifySignedUrl(url, publicKeys, new Date("2026-11-27T00:00:00Z"))).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses keys that cannot be served reliably, before signing anything", () => {
    const signer = signerFor("SHA1");
    for (const key of ["", "/leading", "a/../b", "a/./b", "a//b", "folder/", "tab\there", "new\nline"]) {
      expect(() => signer.sign(key, { expiresAt: new Date("2026-11-27T00:00:00Z") }), key).toThrow(
        expect.objectContaining({ code: "KEY_INVALID" }),
      );
    }
  });
});

describe("share ids in links", () => {
  const now = new Date("2026-11-26T12:00:00.000Z");
  const expiresAt = new Date("2026-11-27T00:00:00.000Z");

  it("carries the share id inside what is signed", () => {
    const link = signerFor("SHA1").sign("reports/q1 2026.pdf", { expiresAt, shareId: "sh_8Kd2-x" });
    expect(link.url).toMatch(
      /^https:\/\/d111111abcdef8\.cloudfront\.net\/reports\/q1%202026\.pdf\?hid=sh_8Kd2-x&Expires=\d+&Signature=/,
    );
    expect(verifySignedUrl(link.url, publicKeys, now)).toMatchObject({
      ok: true,
      resource: expect.stringContaining("?hid=sh_8Kd2-x"),
    });
    const whole = aDayFromNow();
    const compared = signerFor("SHA1").sign("reports/q1 2026.pdf", {
      expiresAt: whole,
      shareId: "sh_8Kd2-x",
    });
    const reference = independentSign(resourceUrl("https", DOMAIN, "reports/q1 2026.pdf", "sh_8Kd2-x"), {
      keypairId: pair.keyPairId,
      privateKeyString: pair.privatePem,
      expireTime: whole.getTime(),
    });
    expect(queryParam(compared.url, "Signature")).toBe(new URL(reference).searchParams.get("Signature"));
  });

  it("fails verification when the share id is removed or changed", () => {
    const { url } = signerFor("SHA1").sign("reports/q1.pdf", { expiresAt, shareId: "sh_original" });
    expect(verifySignedUrl(url.replace("hid=sh_original&", ""), publicKeys, now)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    expect(verifySignedUrl(url.replace("sh_original", "sh_other"), publicKeys, now)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
  });

  it("refuses a share id that would need encoding", () => {
    expect(() => signerFor("SHA1").sign("a.pdf", { expiresAt, shareId: "a&Expires=1" })).toThrow(/URL-safe/);
  });
});
