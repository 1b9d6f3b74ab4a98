import { createPublicKey, type KeyObject } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { generateSigningKeyPair, keyPairIdFor } from "./key-pair.js";
import { parsePrivateKey } from "./private-key.js";

export interface LocalKeyPair {
  /** Derived from the public key: stable for as long as the key is kept. */
  readonly keyPairId: string;
  readonly privateKeyPath: string;
  /** What the link server verifies signatures with. */
  readonly publicKey: KeyObject;
  /** True when this call made the pair. */
  readonly created: boolean;
}

const exists = async (path: string): Promise<boolean> => {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
};

/** Writes a new pair unless one is there; false when another process got there first. */
async function createPair(dir: string, privateKeyPath: string): Promise<boolean> {
  if (await exists(privateKeyPath)) return false;
  const { privateKeyPem, publicKeyPem } = generateSigningKeyPair();
  try {
    // `wx`: never overwrite a key, even one written between the check above and now.
    await writeFile(privateKeyPath, privateKeyPem, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  // For the operator's reference only: the public key is always derived from the private one.
  await writeFile(join(dir, "public_key.pem"), publicKeyPem, { mode: 0o644 });
  return true;
}

/**
 * The signing key pair for links Handout serves itself: `dir/private_key.pem` (PKCS#8, mode 0600),
 * created with its folder on first run and read as it is afterwards.
 */
export async function ensureLocalKeyPair(dir: string): Promise<LocalKeyPair> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const created = await createPair(folder, join(folder, "private_key.pem"));
  return { ...((await readLocalKeyPair(folder)) as LocalKeyPair), created };
}

/**
 * The key pair that is already in `dir`, or undefined when there is none: for commands that must sign
 * with the key the server has, never with a new one.
 */
export async function readLocalKeyPair(dir: string): Promise<LocalKeyPair | undefined> {
  const privateKeyPath = join(resolve(dir), "private_key.pem");
  let text: string;
  try {
    text = await readFile(privateKeyPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const publicKey = createPublicKey(parsePrivateKey(text, privateKeyPath));
  return { keyPairId: keyPairIdFor(publicKey), privateKeyPath, publicKey, created: false };
}
