import type { LedgerSetting, SignatureSettings, SigningSettings } from "../config/config.js";
import type { ShareLedger } from "../domain/ledger.js";
import type { LinkSigner } from "../domain/ports.js";
import { openSqliteLedger } from "../ledger/sqlite.js";
import type { Logger } from "../logger.js";
import { cloudFrontSigner } from "../signing/cloudfront-signer.js";
import { fileKeySource, type KeyTextSource, secretsManagerKeySource } from "../signing/key-sources.js";
import { SigningKeyCache } from "../signing/signing-key-cache.js";
import { createDynamoDbClient, createSecretsManagerClient } from "./clients.js";

export function keyTextSource(settings: SigningSettings): KeyTextSource {
  return settings.keySource.kind === "secret"
    ? secretsManagerKeySource(createSecretsManagerClient, settings.keySource.secretId)
    : fileKeySource(settings.keySource.path);
}

/** Where a signer's key comes from and where its links point: CloudFront's, or the embedded default's own. */
export interface SignerKey {
  readonly source: KeyTextSource;
  readonly keyPairId: string | undefined;
  readonly domain: string;
  readonly scheme?: "http" | "https";
}

/** CloudFront's key (a secret or a file) and domain, from the settings. */
export const cloudFrontKey = (settings: SigningSettings): SignerKey => ({
  source: keyTextSource(settings),
  keyPairId: settings.publicKeyId,
  domain: settings.domain,
});

/**
 * The signer with its key loaded, hashing and re-reading the key as the settings say, in either mode;
 * throws (with the fix in the message) when the key cannot be had.
 */
export async function startSigner(
  key: SignerKey,
  signature: SignatureSettings,
  logger: Logger,
): Promise<LinkSigner> {
  const keys = new SigningKeyCache({
    source: key.source,
    configuredKeyPairId: key.keyPairId,
    maxAgeSeconds: signature.keyMaxAgeSeconds,
    logger,
  });
  await keys.start();
  return cloudFrontSigner({
    domain: key.domain,
    ...(key.scheme ? { scheme: key.scheme } : {}),
    algorithm: signature.algorithm,
    signingKey: () => keys.current(),
  });
}

/** The ledger the configuration names: a SQLite file by default, or a DynamoDB table. */
export async function openLedger(setting: LedgerSetting): Promise<ShareLedger> {
  if (setting.kind === "sqlite") return openSqliteLedger(setting.path);
  // Loaded only here: a process on a SQLite ledger never loads the DynamoDB SDK.
  const { dynamoDbLedger } = await import("../ledger/dynamodb.js");
  return dynamoDbLedger({ client: await createDynamoDbClient(), tableName: setting.table });
}

/** Makes the ledger the configuration names (`handout ledger init`): the table with its indexes, or the file. */
export async function createLedger(setting: LedgerSetting): Promise<void> {
  if (setting.kind === "sqlite") {
    await (await openSqliteLedger(setting.path)).close();
    return;
  }
  const { createLedgerTable } = await import("../ledger/dynamodb.js");
  const client = await createDynamoDbClient();
  try {
    await createLedgerTable(client, setting.table);
  } finally {
    client.destroy();
  }
}
