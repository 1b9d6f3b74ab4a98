import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { parsePrivateKey } from "../../src/signing/private-key.js";

export interface TestKeyPair {
  readonly keyPairId: string;
  readonly privatePem: string;
  readonly publicPem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh RSA-2048 pair, as `handout keys generate` makes (PKCS#8 private, SPKI public). */
export function makeKeyPair(keyPairId = "K2TESTKEYPAIR1"): TestKeyPair {
  const { privateKey: privatePem, publicKey: publicPem } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return {
    keyPairId,
    privatePem,
    publicPem,
    privateKey: parsePrivateKey(privatePem, "the test key"),
    publicKey: createPublicKey(publicPem),
  };
}
