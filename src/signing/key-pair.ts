import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface GeneratedKeyPair {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM, as CloudFront's create-public-key takes it. */
  readonly publicKeyPem: string;
}

/** A new key pair for signing links; CloudFront accepts 2048-bit RSA public keys. */
export function generateSigningKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * A key pair ID for a public key served by Handout itself, shaped like CloudFront's (`K` and 13
 * characters of A–Z, 2–7): a hash of the key, so the same key always gets the same ID and a new key
 * another.
 */
export function keyPairIdFor(publicKey: KeyObject): string {
  const digest = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest();
  let id = "K";
  let value = 0;
  let bits = 0;
  for (const byte of digest) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && id.length < 14) {
      bits -= 5;
      id += BASE32[(value >>> bits) & 31];
    }
    if (id.length === 14) break;
  }
  return id;
}
