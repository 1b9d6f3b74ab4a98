import { resolve } from "node:path";
import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { CloudFrontKeyValueStoreClient } from "@aws-sdk/client-cloudfront-keyvaluestore";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { AuthTestResponse, WebClient } from "@slack/web-api";
import {
  type AnyStorageSettings,
  type BucketSettings,
  type Config,
  ConfigError,
  loadConfig,
  type SigningSettings,
  type SlackSettings,
} from "../config/config.js";
import type { AccessPolicy } from "../domain/policy.js";
import { scrub } from "../logger.js";
import { cloudFrontSigner } from "../signing/cloudfront-signer.js";
import { fileKeySource, type KeyTextSource, secretsManagerKeySource } from "../signing/key-sources.js";
import { checkBucket, checkPolicy, checkRuleFiles, fileSampler } from "./bucket-checks.js";
import { type Checked, type CheckResult, failed, passed, skipped, splitMessage } from "./check.js";
import {
  checkDistribution,
  checkKeyGroup,
  checkOrigin,
  type FoundDistribution,
  isS3Domain,
} from "./cloudfront-checks.js";
import { gateChecks } from "./gate-checks.js";
import { checkPrivateKey, checkPublicKey, type LoadedKey } from "./key-checks.js";
import { checkSignedLink, checkUnsignedLink, type LiveTarget, type SignedLinkHints } from "./live-checks.js";
import { checkLocalFolder, checkLocalKey } from "./local-checks.js";
import { checkRevocationFunction, checkRevocationStore, checkRevocationWrites } from "./revocation-checks.js";
import { checkSlackScopes, checkSlackToken } from "./slack-checks.js";

/** The outside world, passed in so that tests answer for AWS, Slack and CloudFront. */
export interface DoctorClients {
  readonly cloudFront: CloudFrontClient;
  readonly s3: (bucket: BucketSettings) => S3Client;
  readonly secretsManager: () => SecretsManagerClient;
  readonly keyValueStore: () => CloudFrontKeyValueStoreClient;
  readonly slack: (settings: SlackSettings) => WebClient;
  readonly fetch: typeof fetch;
  /** `https` for CloudFront; `http` only for a local stand-in. */
  readonly scheme: "https" | "http";
  /** How long each live request may take. */
  readonly timeoutMs: number;
}

export interface DoctorDeps extends DoctorClients {
  readonly env: NodeJS.ProcessEnv;
  /** What relative paths in the settings are relative to. */
  readonly cwd: string;
  readonly now: () => Date;
}

const variableOf = (problem: string): string | undefined => /^[A-Z][A-Z0-9_]+/.exec(problem)?.[0];

/**
 * Reads the environment as Handout would at start-up, but without stopping at a problem: a malformed
 * variable is reported and then treated as unset, so that every check that does not need it still runs.
 */
function readSettings(env: NodeJS.ProcessEnv): {
  config: Config<AnyStorageSettings>;
  settings: CheckResult[];
} {
  const usable = { ...env };
  const settings: CheckResult[] = [];
  const malformed = new Set<string>();
  try {
    loadConfig(usable);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      const variable = variableOf(problem) ?? "?";
      malformed.add(variable);
      if (usable[variable] === undefined) {
        // Needed because another setting asks for it: HANDOUT_PUBLIC_URL's gate. The rest is checked without it.
        const { detail, fix } = splitMessage(problem);
        settings.push(failed(`Setting ${variable}`, detail, fix));
        delete usable.HANDOUT_PUBLIC_URL;
        continue;
      }
      delete usable[variable];
      settings.push(failed(`Setting ${variable}`, `${variable} is set but not valid`, problem));
    }
  }
  // Without any Slack setting Handout runs without Slack on purpose (links only): nothing is missing.
  const slackRequested = loadConfig(usable).slackRequested;
  try {
    loadConfig(usable, { storage: "complete", ...(slackRequested ? { slack: "required" } : {}) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      const variable = variableOf(problem) ?? "?";
      if (malformed.has(variable)) continue;
      const { detail, fix } = splitMessage(problem);
      settings.push(failed(`Setting ${variable}`, detail, fix));
    }
  }
  if (settings.length === 0) settings.push(passed("Settings", "everything Handout needs is set"));
  return { config: loadConfig(usable), settings };
}

/** Runs a check; a check that throws (a bug, not a finding) is reported as failed rather than ending the run. */
async function guard<T>(name: string, run: () => Promise<Checked<T>>): Promise<Checked<T>> {
  try {
    return await run();
  } catch (error) {
    return failed(
      name,
      `the check itself failed: ${scrub((error as Error).message ?? String(error))}`,
      "Run the doctor again; if this persists, report it with this line.",
    );
  }
}

const keySource = (signing: SigningSettings, clients: DoctorClients): KeyTextSource =>
  signing.keySource.kind === "secret"
    ? secretsManagerKeySource(clients.secretsManager(), signing.keySource.secretId)
    : fileKeySource(signing.keySource.path);

const SEE_SETTINGS = "(see the settings above)";

const unlisted = (listing: CheckResult): string =>
  listing.ok === "skipped" ? `HANDOUT_BUCKET is not set ${SEE_SETTINGS}` : "the bucket cannot be listed";

/**
 * Runs every check, independent ones at the same time, and returns them in a fixed order: settings,
 * Slack, key, CloudFront, bucket, policy, then a real request through the distribution.
 */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const { config, settings } = readSettings(deps.env);
  const { slack } = config;
  const slackToken: Promise<Checked<AuthTestResponse>> = slack
    ? guard("Slack token", () => checkSlackToken(deps.slack(slack)))
    : Promise.resolve(
        skipped(
          "Slack token",
          config.slackRequested
            ? `SLACK_BOT_TOKEN is not set ${SEE_SETTINGS}`
            : "Slack is not configured, so Handout serves links without it; set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) to connect it",
        ),
      );
  const slackScopes = slackToken.then((token) => {
    const answer = token.found;
    return answer
      ? guard("Slack scopes", async () => checkSlackScopes(answer))
      : skipped("Slack scopes", slack ? "no token Slack accepts" : "Slack is not configured");
  });
  const policy = guard("Access policy", () => checkPolicy(config, resolve(deps.cwd, config.policyFile)));
  // Embedded mode keeps files in a local folder and signs its own links: no AWS to examine.
  const stored = config.storage;
  const storage: Promise<CheckResult[]> =
    stored.mode === "local"
      ? Promise.all([
          skipped(
            "S3 and CloudFront",
            `neither HANDOUT_BUCKET nor CLOUDFRONT_DOMAIN is set, so Handout serves the folder ${stored.dir} itself`,
          ),
          guard("Local folder", () => checkLocalFolder(resolve(deps.cwd, stored.dir))),
          guard("Signing key", () => checkLocalKey(resolve(deps.cwd, stored.stateDir))),
          policy,
        ])
      : awsChecks(deps, config, stored, policy);
  const gate = policy.then((checked) =>
    gateChecks(config, checked.found, {
      fetch: deps.fetch,
      timeoutMs: deps.timeoutMs,
      manifestFile: resolve(deps.cwd, "manifest.yml"),
    }),
  );
  const [token, scopes, rest, gated] = await Promise.all([slackToken, slackScopes, storage, gate]);
  return [...settings, token, scopes, ...rest, ...gated];
}

/** The key, CloudFront, the bucket and the policy's prefixes, then a real request through the distribution. */
async function awsChecks(
  deps: DoctorDeps,
  config: Config<AnyStorageSettings>,
  { bucket, signing }: Extract<AnyStorageSettings, { mode: "aws" }>,
  policy: Promise<Checked<AccessPolicy>>,
): Promise<CheckResult[]> {
  const signingUnset = `CLOUDFRONT_DOMAIN and a private key source must both be set ${SEE_SETTINGS}`;

  const key: Promise<Checked<LoadedKey>> = signing
    ? guard("Private key", () => checkPrivateKey(keySource(signing, deps), signing.publicKeyId))
    : Promise.resolve(skipped("Private key", signingUnset));
  const keyPairId = key.then((loaded) => loaded.found?.keyPairId ?? signing?.publicKeyId);
  const publicKey = key.then((loaded) => {
    const found = loaded.found;
    if (!found) return skipped("CloudFront public key", "no private key to compare it with");
    const id = found.keyPairId;
    if (!id) {
      return failed(
        "CloudFront public key",
        "no public key ID: CLOUDFRONT_PUBLIC_KEY_ID is not set and the secret stores none",
        "Set CLOUDFRONT_PUBLIC_KEY_ID to the ID (K…) of the CloudFront public key made from this private key.",
      );
    }
    return guard("CloudFront public key", () => checkPublicKey(deps.cloudFront, id, found.privateKey));
  });

  const distribution: Promise<Checked<FoundDistribution>> = signing
    ? guard("Distribution", () => checkDistribution(deps.cloudFront, signing.domain))
    : Promise.resolve(skipped("Distribution", signingUnset));
  const keyGroup = Promise.all([distribution, keyPairId]).then(([found, id]) => {
    if (!found.found) return skipped("Trusted key group", "no distribution to inspect");
    if (!id) return skipped("Trusted key group", "no public key ID to look for");
    const inspected = found.found;
    return guard("Trusted key group", () => checkKeyGroup(deps.cloudFront, inspected, id));
  });
  const origin = distribution.then((found) => {
    if (!found.found) return skipped("Origin", "no distribution to inspect");
    if (!bucket) return skipped("Origin", `HANDOUT_BUCKET is not set ${SEE_SETTINGS}`);
    const inspected = found.found;
    return guard("Origin", async () => checkOrigin(inspected, bucket.name));
  });

  const revocation = revocationChecks(deps, config.revocationStoreArn, distribution);

  const sample = bucket ? fileSampler(deps.s3(bucket), bucket.name) : undefined;
  const listing: Promise<Checked<string>> =
    bucket && sample
      ? guard("Bucket", () => checkBucket(sample, bucket.name))
      : Promise.resolve(skipped("Bucket", `HANDOUT_BUCKET is not set ${SEE_SETTINGS}`));
  const rules: Promise<Checked<string>[]> = Promise.all([listing, policy]).then(([listed, loaded]) =>
    Promise.all(
      (loaded.found?.rules ?? []).map((rule) =>
        listed.ok === true && bucket && sample
          ? guard(`Rule "${rule.name}"`, () => checkRuleFiles(rule, sample, bucket.name))
          : Promise.resolve(skipped(`Rule "${rule.name}"`, unlisted(listed))),
      ),
    ),
  );

  const live = Promise.all([key, keyPairId, distribution, keyGroup, origin, publicKey, listing, rules]).then(
    async ([loaded, id, found, group, reads, matches, listed, granted]): Promise<CheckResult[]> => {
      if (!signing) return [skipped("Signed link", signingUnset), skipped("Unsigned link", signingUnset)];
      if (isS3Domain(signing.domain)) {
        const why = "CLOUDFRONT_DOMAIN is not the distribution's (see Distribution above)";
        return [skipped("Signed link", why), skipped("Unsigned link", why)];
      }
      const file = granted.find((rule) => rule.found)?.found ?? listed.found;
      if (!file) {
        const why =
          listed.ok === true ? "the bucket holds no file to fetch" : `no file to fetch: ${unlisted(listed)}`;
        return [skipped("Signed link", why), skipped("Unsigned link", why)];
      }
      const target: LiveTarget = {
        domain: signing.domain,
        scheme: deps.scheme,
        key: file,
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs,
      };
      const finding = (check: CheckResult) =>
        check.ok === false ? `${check.name}: ${check.detail}` : undefined;
      const status = found.found?.status;
      const hints: SignedLinkHints = {
        deploying:
          status && status !== "Deployed"
            ? `the distribution is still deploying a change (status ${status})`
            : undefined,
        publicKey: finding(matches),
        keyGroup: finding(group),
        origin: finding(reads),
      };
      const privateKey = loaded.found?.privateKey;
      const signed =
        privateKey && id
          ? guard("Signed link", () =>
              checkSignedLink(
                target,
                cloudFrontSigner({
                  domain: signing.domain,
                  algorithm: config.signature.algorithm,
                  signingKey: () => ({ keyPairId: id, privateKey }),
                  scheme: deps.scheme,
                }),
                deps.now(),
                hints,
              ),
            )
          : Promise.resolve(
              skipped(
                "Signed link",
                privateKey ? "no public key ID to sign with" : "no private key to sign with",
              ),
            );
      return Promise.all([signed, guard("Unsigned link", () => checkUnsignedLink(target))]);
    },
  );

  // Awaited together, so that a check failing early never goes unhandled while an earlier one runs.
  const results = await Promise.all([
    key,
    publicKey,
    distribution,
    keyGroup,
    origin,
    revocation,
    listing,
    policy,
    rules,
    live,
  ]);
  return results.flat();
}

/** With HANDOUT_REVOCATION_KVS_ARN set: the store, the function at the edge that reads it, and writing to it. */
async function revocationChecks(
  deps: DoctorDeps,
  kvsArn: string | undefined,
  distribution: Promise<Checked<FoundDistribution>>,
): Promise<CheckResult[]> {
  if (!kvsArn) return [];
  const client = deps.keyValueStore();
  const store = guard("Revocation store", () => checkRevocationStore(client, kvsArn));
  const reader = distribution.then((found) => {
    const inspected = found.found;
    return inspected
      ? guard("Revocation function", () => checkRevocationFunction(deps.cloudFront, inspected, kvsArn))
      : skipped("Revocation function", "no distribution to inspect");
  });
  const writes = store.then((found) =>
    found.ok === true
      ? guard("Revocation writes", () => checkRevocationWrites(client, kvsArn, deps.now()))
      : skipped("Revocation writes", "no store to write to"),
  );
  return Promise.all([store, reader, writes]);
}

const MARK = { true: "✓", false: "✗", skipped: "-" } as const;

/** One line per check, an indented fix under each failure, and a summary. Scrubbed once more, to be sure. */
export function formatReport(results: readonly CheckResult[]): string {
  const lines = results.flatMap((result) => {
    const detail = result.detail
      ? ` — ${result.ok === "skipped" ? `skipped: ${result.detail}` : result.detail}`
      : "";
    const head = `${MARK[String(result.ok) as keyof typeof MARK]} ${result.name}${detail}`;
    return result.ok === false && result.fix ? [head, `    fix: ${result.fix}`] : [head];
  });
  const failures = results.filter((result) => result.ok === false).length;
  const skips = results.filter((result) => result.ok === "skipped").length;
  const passes = results.length - failures - skips;
  const summary =
    failures === 0
      ? `All ${passes} checks passed${skips ? ` (${skips} skipped)` : ""}.`
      : `${failures} failed, ${passes} passed${skips ? `, ${skips} skipped` : ""}. Fix the first ✗ first: later checks often fail because of it.`;
  return `${scrub([...lines, "", summary].join("\n"))}\n`;
}
