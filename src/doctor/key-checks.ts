import { createPublicKey, type KeyObject } from "node:crypto";
import { type CloudFrontClient, GetPublicKeyCommand } from "@aws-sdk/client-cloudfront";
import { cliCommand } from "../config/cli-command.js";
import { CLOUDFRONT_KEY_ID } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import type { KeyTextSource } from "../signing/key-sources.js";
import { parsePrivateKey, readKeyMaterial } from "../signing/private-key.js";
import { awsProblem, type Checked, type CheckResult, failed, passed, splitMessage } from "./check.js";

export interface LoadedKey {
  readonly privateKey: KeyObject;
  /** The ID Handout signs with: the one stored beside the key, else CLOUDFRONT_PUBLIC_KEY_ID. */
  readonly keyPairId: string | undefined;
}

const PRIVATE_KEY = "Private key";
const PUBLIC_KEY = "CloudFront public key";

/** The key source is readable and holds a usable RSA private key (the same steps Handout takes at start-up). */
export async function checkPrivateKey(
  source: KeyTextSource,
  configuredKeyPairId: string | undefined,
): Promise<Checked<LoadedKey>> {
  try {
    const material = readKeyMaterial(await source.read(), source.description);
    const privateKey = parsePrivateKey(material.pem, source.description);
    if (material.keyPairId !== undefined && !CLOUDFRONT_KEY_ID.test(material.keyPairId)) {
      return failed(
        PRIVATE_KEY,
        `the key ID stored in ${source.description} is not a CloudFront public key ID (K…), and Handout signs with it`,
        "Store the ID of the CloudFront public key made from this private key (CloudFront → Public keys, such as K2JCJMDEHXQW5F) as keyPairId in the secret.",
      );
    }
    const keyPairId = material.keyPairId ?? configuredKeyPairId;
    const bits = privateKey.asymmetricKeyDetails?.modulusLength;
    // Handout, too, prefers the ID stored with the key; say so, since the setting is then ignored.
    const note =
      material.keyPairId && configuredKeyPairId && material.keyPairId !== configuredKeyPairId
        ? `; its stored key ID ${material.keyPairId} is used, not CLOUDFRONT_PUBLIC_KEY_ID ${configuredKeyPairId}`
        : "";
    return passed(PRIVATE_KEY, `an RSA${bits ? `-${bits}` : ""} key from ${source.description}${note}`, {
      privateKey,
      keyPairId,
    });
  } catch (error) {
    if (!(error instanceof HandoutError)) throw error;
    const { detail, fix } = splitMessage(error.message, source.description);
    return failed(PRIVATE_KEY, detail, fix);
  }
}

/** DER bytes of the public half: comparable whatever PEM flavour or line wrapping CloudFront kept. */
const spki = (key: KeyObject): Buffer => key.export({ type: "spki", format: "der" });

/** CloudFront holds a public key with this ID, and it is the public half of the private key. */
export async function checkPublicKey(
  cloudFront: CloudFrontClient,
  keyPairId: string,
  privateKey: KeyObject,
): Promise<CheckResult> {
  let encoded: string | undefined;
  try {
    const answer = await cloudFront.send(new GetPublicKeyCommand({ Id: keyPairId }));
    encoded = answer.PublicKey?.PublicKeyConfig?.EncodedKey;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchPublicKey") {
      return failed(
        PUBLIC_KEY,
        `CloudFront has no public key with the ID ${keyPairId}`,
        `Check CLOUDFRONT_PUBLIC_KEY_ID (or the keyPairId stored in the secret) against CloudFront → Public keys, or register the public key (\`${cliCommand()} keys generate\` prints the command).`,
      );
    }
    const { detail, fix } = awsProblem(error, "cloudfront:GetPublicKey");
    return failed(PUBLIC_KEY, `could not read public key ${keyPairId}: ${detail}`, fix);
  }
  let registered: KeyObject | undefined;
  try {
    registered = encoded ? createPublicKey(encoded) : undefined;
  } catch {
    registered = undefined;
  }
  if (registered && spki(registered).equals(spki(createPublicKey(privateKey)))) {
    return passed(PUBLIC_KEY, `${keyPairId} is the public half of the private key`);
  }
  return failed(
    PUBLIC_KEY,
    registered
      ? `${keyPairId} does not match the private key: CloudFront will refuse every link`
      : `CloudFront's copy of ${keyPairId} is not a readable public key`,
    "Register the public key made from this private key (`openssl rsa -pubout -in private_key.pem`), add it to the distribution's key group and set CLOUDFRONT_PUBLIC_KEY_ID to its ID; or store the private key that belongs to this ID.",
  );
}
