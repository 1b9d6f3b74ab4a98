import type { BucketSettings, LedgerSetting, SigningSettings } from "../config/config.js";
import type { ShareLedger } from "../domain/ledger.js";
import type { FileCatalog, LinkSigner } from "../domain/ports.js";
import { s3FileCatalog } from "../files/s3-catalog.js";
import { openSqliteLedger } from "../ledger/sqlite.js";
import type { Logger } from "../logger.js";
import { cloudFrontSigner } from "../signing/cloudfront-signer.js";
import { fileKeySource, type KeyTextSource, secretsManagerKeySource } from "../signing/key-sources.js";
import { SigningKeyCache } from "../signing/signing-key-cache.js";
import { createDynamoDbClient, createS3Client, createSecretsManagerClient } from "./clients.js";

export function keyTextSource(settings: SigningSettings): KeyTextSource {
  return settings.keySource.kind === "secret"
    ? secretsManagerKeySource(createSecretsManagerClient, settings.keySource.secretId)
    : fileKeySource(settings.keySource.path);
}

/** The signer with its key loaded; throws (with the fix in the message) when the key cannot be had. */
export async function startSigner(
  settings: SigningSettings,
  logger: Logger,
): Promise<{ signer: LinkSigner; keys: SigningKeyCache }> {
  const keys = new SigningKeyCache({
    source: keyTextSource(settings),
    configuredKeyPairId: settings.publicKeyId,
    maxAgeSeconds: settings.keyMaxAgeSeconds,
    logger,
  });
  await keys.start();
  const signer = cloudFrontSigner({
    domain: settings.domain,
    algorithm: settings.algorithm,
    signingKey: () => keys.current(),
  });
  return { signer, keys };
}

export const createCatalog = (bucket: BucketSettings): FileCatalog =>
  s3FileCatalog(createS3Client(bucket), bucket.name);

/** The ledger the configuration names: a SQLite file by default, or a DynamoDB table. */
export async function openLedger(setting: LedgerSetting): Promise<ShareLedger> {
  if (setting.kind === "sqlite") return openSqliteLedger(setting.path);
  // Loaded only here: a process on a SQLite ledger never loads the DynamoDB SDK.
  const { dynamoDbLedger } = await import("../ledger/dynamodb.js");
  return dynamoDbLedger({ client: await createDynamoDbClient(), tableName: setting.table });
}
