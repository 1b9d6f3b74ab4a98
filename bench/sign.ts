import { generateKeyPairSync } from "node:crypto";
import { getSignedUrl } from "@aws-sdk/cloudfront-signer";
import { cloudFrontSigner } from "../src/signing/cloudfront-signer.js";
import { parsePrivateKey } from "../src/signing/private-key.js";

const DOMAIN = "d111111abcdef8.cloudfront.net";
const KEY_PAIR_ID = "K2BENCHMARK";

/** Signatures per second for `sign`, over at least `seconds`, after a warm-up. */
function rate(sign: (i: number) => unknown, seconds: number): number {
  for (let i = 0; i < 200; i++) sign(i);
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) sign(count + i);
    count += 100;
  }
  return count / ((performance.now() - start) / 1000);
}

/**
 * Handout's signer (the private key parsed once into a KeyObject) against the SDK's getSignedUrl given
 * the PEM string, which parses the key on every call: the usual way of calling it.
 */
export async function run(): Promise<Record<string, number>> {
  const { privateKey: pem } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const privateKey = parsePrivateKey(pem, "the benchmark key");
  const signer = cloudFrontSigner({
    domain: DOMAIN,
    algorithm: "SHA1",
    signingKey: () => ({ keyPairId: KEY_PAIR_ID, privateKey }),
  });
  const expiresAt = new Date(Date.now() + 7 * 86_400_000);
  const key = (i: number) => `reports/2026/quarter ${i % 4}/report ${i}.pdf`;

  const cached = rate((i) => signer.sign(key(i), { expiresAt }), 1.5);
  const parsedEachCall = rate(
    (i) =>
      getSignedUrl({
        url: `https://${DOMAIN}/${encodeURI(key(i))}`,
        keyPairId: KEY_PAIR_ID,
        privateKey: pem,
        dateLessThan: expiresAt,
      }),
    1.5,
  );
  return {
    "sign.keyobject_per_s": Math.round(cached),
    "sign.pem_per_s": Math.round(parsedEachCall),
    "sign.keyobject_vs_pem": Number((cached / parsedEachCall).toFixed(2)),
  };
}
