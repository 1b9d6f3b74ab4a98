import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestKeyPair } from "./keys.js";

export const TEST_DOMAIN = "d111111abcdef8.cloudfront.net";

/** What a test runs Handout against; each part left out leaves its settings out. */
export interface HandoutParts {
  /** The test bucket: its name, endpoint and credentials, as the AWS SDK reads them. */
  readonly bucket?: { readonly env: Readonly<Record<string, string>> };
  readonly slack?: { readonly token: string; readonly apiUrl: string };
  /** For HTTP mode; Socket Mode needs none. */
  readonly signingSecret?: string;
  /** The key pair's ID and the file its private key is in (see `writeKeyAndPolicy`). */
  readonly key?: { readonly keyPairId: string; readonly file: string };
  readonly policyFile?: string;
  /** A SQLite ledger file. */
  readonly ledgerFile?: string;
  /** CLOUDFRONT_DOMAIN; the test distribution's when a key is given. */
  readonly domain?: string;
}

/**
 * Handout's settings for a server, a Lambda or a CLI run in a test, from the parts it runs against, then
 * `extra` (where `undefined` removes a setting). A child process takes it through `childEnv`.
 */
export function handoutEnv(
  parts: HandoutParts,
  extra: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    ...parts.bucket?.env,
    ...(parts.slack ? { SLACK_BOT_TOKEN: parts.slack.token, SLACK_API_URL: parts.slack.apiUrl } : {}),
    SLACK_SIGNING_SECRET: parts.signingSecret,
    CLOUDFRONT_DOMAIN: parts.domain ?? (parts.key ? TEST_DOMAIN : undefined),
    CLOUDFRONT_PUBLIC_KEY_ID: parts.key?.keyPairId,
    CLOUDFRONT_PRIVATE_KEY_FILE: parts.key?.file,
    HANDOUT_POLICY_FILE: parts.policyFile,
    HANDOUT_LEDGER: parts.ledgerFile === undefined ? undefined : `sqlite:${parts.ledgerFile}`,
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** Writes the private key (mode 0600) and, when given, the access policy into `dir`. */
export async function writeKeyAndPolicy(
  dir: string,
  pair: TestKeyPair,
  policy?: string,
): Promise<{ key: { keyPairId: string; file: string }; policyFile: string }> {
  const file = join(dir, "private_key.pem");
  const policyFile = join(dir, "access.yml");
  await writeFile(file, pair.privatePem, { mode: 0o600 });
  if (policy !== undefined) await writeFile(policyFile, policy);
  return { key: { keyPairId: pair.keyPairId, file }, policyFile };
}
