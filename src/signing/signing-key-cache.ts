import { HandoutError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { SigningKey } from "./cloudfront-signer.js";
import type { KeyTextSource } from "./key-sources.js";
import { parsePrivateKey, readKeyMaterial } from "./private-key.js";

export interface SigningKeyCacheOptions {
  readonly source: KeyTextSource;
  /** CLOUDFRONT_PUBLIC_KEY_ID; a key ID stored in the secret itself takes precedence. */
  readonly configuredKeyPairId: string | undefined;
  readonly maxAgeSeconds: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Holds the parsed signing key. Loaded once before serving; after `maxAgeSeconds` the next use starts
 * a reload in the background (so a rotated key is picked up without a restart) while the current key
 * keeps signing. A failed reload keeps the last good key and logs a warning.
 */
export class SigningKeyCache {
  private key: SigningKey | undefined;
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SigningKeyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the key; a failure here is final for start-up, with a message that says what to fix. */
  async start(): Promise<void> {
    this.key = await this.load();
    this.loadedAt = this.now();
  }

  current(): SigningKey {
    if (!this.key)
      throw new HandoutError("SIGNING_KEY_UNAVAILABLE", "The signing key has not been loaded yet.");
    if (this.now() - this.loadedAt >= this.options.maxAgeSeconds * 1000) void this.reload();
    return this.key;
  }

  /** Reloads now; concurrent callers share one reload. Resolves once it has succeeded or failed. */
  reload(): Promise<void> {
    this.reloading ??= this.load()
      .then((key) => {
        if (this.key && key.keyPairId !== this.key.keyPairId) {
          this.options.logger.info({ keyPairId: key.keyPairId }, "signing key rotated");
        }
        this.key = key;
      })
      .catch((error: unknown) => {
        this.options.logger.warn(
          { code: (error as HandoutError).code, reason: (error as Error).message },
          "could not reload the signing key; still signing with the last good key",
        );
      })
      .finally(() => {
        // Whether or not it worked, wait a full max age before asking the source again.
        this.loadedAt = this.now();
        this.reloading = undefined;
      });
    return this.reloading;
  }

  private async load(): Promise<SigningKey> {
    const { source, configuredKeyPairId, logger } = this.options;
    const material = readKeyMaterial(await source.read(), source.description);
    const privateKey = parsePrivateKey(material.pem, source.description);
    if (material.keyPairId && configuredKeyPairId && material.keyPairId !== configuredKeyPairId) {
      logger.warn(
        { secretKeyPairId: material.keyPairId, configuredKeyPairId },
        "the key ID stored with the private key differs from CLOUDFRONT_PUBLIC_KEY_ID; using the stored one",
      );
    }
    const keyPairId = material.keyPairId ?? configuredKeyPairId;
    if (!keyPairId) {
      throw new HandoutError(
        "SIGNING_KEY_INVALID",
        `No CloudFront public key ID for the key in ${source.description}: set CLOUDFRONT_PUBLIC_KEY_ID, or store JSON with privateKey and keyPairId fields.`,
      );
    }
    return { keyPairId, privateKey };
  }
}
