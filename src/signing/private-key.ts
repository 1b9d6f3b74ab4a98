import { createPrivateKey, type KeyObject } from "node:crypto";
import { cliCommand } from "../config/cli-command.js";
import { HandoutError } from "../domain/errors.js";

export interface KeyMaterial {
  readonly pem: string;
  /** The CloudFront public key ID stored beside the private key, when the secret holds one. */
  readonly keyPairId?: string;
}

const invalid = (origin: string, problem: string) =>
  new HandoutError("SIGNING_KEY_INVALID", `The private key from ${origin} ${problem}`);

const PEM_FIELDS = ["privateKey", "private_key", "PrivateKey", "pem", "key"];
const KEY_ID_FIELDS = ["keyPairId", "key_pair_id", "publicKeyId", "public_key_id", "KeyPairId"];

/** A secret holds either the PEM itself or JSON with a PEM field and, optionally, the public key ID. */
export function readKeyMaterial(text: string, origin: string): KeyMaterial {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return { pem: trimmed };
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw invalid(
      origin,
      "looks like JSON but does not parse: store the PEM itself, or valid JSON with a privateKey field.",
    );
  }
  const pem = PEM_FIELDS.map((field) => data[field]).find((value) => typeof value === "string");
  if (typeof pem !== "string") {
    throw invalid(
      origin,
      `is JSON without a PEM: put the PEM in a field named privateKey (found: ${Object.keys(data).join(", ") || "no fields"}).`,
    );
  }
  const keyPairId = KEY_ID_FIELDS.map((field) => data[field]).find((value) => typeof value === "string");
  return { pem: pem.trim(), keyPairId: typeof keyPairId === "string" ? keyPairId : undefined };
}

const HEADER = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * Parses a PEM private key for CloudFront (RSA, PKCS#1 or PKCS#8). Each of the usual mistakes gets
 * a message of its own; none of them repeats any of the key's content.
 */
export function parsePrivateKey(pem: string, origin: string): KeyObject {
  const label = HEADER.exec(pem)?.[1];
  if (label === undefined) {
    throw invalid(
      origin,
      "is not a PEM key: it should start with -----BEGIN PRIVATE KEY----- (or BEGIN RSA PRIVATE KEY).",
    );
  }
  if (label.includes("PUBLIC KEY")) {
    throw invalid(
      origin,
      "is a public key: Handout needs the private key (private_key.pem); the public key belongs in CloudFront.",
    );
  }
  if (label.includes("ENCRYPTED") || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    throw invalid(
      origin,
      "is encrypted with a passphrase: store it unencrypted (openssl pkcs8 -topk8 -nocrypt -in key.pem).",
    );
  }
  if (!label.includes("PRIVATE KEY")) {
    throw invalid(origin, `is a ${label}, not a private key: store the private key PEM.`);
  }
  if (pem.includes("\\n")) {
    throw invalid(
      origin,
      "has literal \\n sequences instead of line breaks: store the PEM with real line breaks.",
    );
  }
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").trim();
  if (!pem.includes("\n") || (body.length > 64 && !body.includes("\n"))) {
    throw invalid(
      origin,
      "lost its line breaks (was it pasted into one line?): store the PEM file as it is, with its line breaks.",
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw invalid(
      origin,
      `is damaged and cannot be read: generate a new pair with \`${cliCommand()} keys generate\`.`,
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw invalid(
      origin,
      `is a ${key.asymmetricKeyType?.toUpperCase() ?? "non-RSA"} key: CloudFront signs with RSA keys; generate one with \`${cliCommand()} keys generate\`.`,
    );
  }
  return key;
}
