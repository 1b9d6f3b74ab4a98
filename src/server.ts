import { WebClient } from "@slack/web-api";
import { createS3Client } from "./adapters/aws-clients.js";
import { FileIndex } from "./adapters/file-index.js";
import { s3FileCatalog } from "./adapters/s3-catalog.js";
import { s3PageSource } from "./adapters/s3-lister.js";
import { slackDirectory } from "./adapters/slack-directory.js";
import { slackShareMessages } from "./adapters/slack-messages.js";
import { slackPoster } from "./adapters/slack-poster.js";
import { type Config, loadConfig, type SlackSettings } from "./config.js";
import { HandoutError } from "./domain/errors.js";
import type { AccessPolicy } from "./domain/policy.js";
import { coveringPrefixes } from "./domain/search.js";
import { type ExpiryScheduler, startExpiryScheduler } from "./expiry-scheduler.js";
import type { Logger } from "./logger.js";
import { loadPolicyFile } from "./policy-file.js";
import { SLACK_RETRIES, startSlackApp } from "./slack/app.js";
import type { HandoutContext } from "./slack/context.js";
import { KeyRefs } from "./slack/key-refs.js";
import { MetadataSeal } from "./slack/metadata.js";
import { openLedger, startSigner } from "./wiring.js";

export interface RunningHandout {
  readonly port: number;
  readonly index: FileIndex;
  readonly expiry: ExpiryScheduler;
  stop(): Promise<void>;
}

/** Handout's parts, wired and started, for any Slack receiver (HTTP, Socket Mode, AWS Lambda). */
export interface Handout {
  readonly config: Config;
  readonly slack: SlackSettings;
  readonly context: HandoutContext;
  readonly index: FileIndex;
  readonly bot: { botId: string; botUserId: string };
  readonly expiry: ExpiryScheduler;
  /** What GET /healthz reports. */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Every prefix the policy grants anyone: what the index lists (not the whole bucket unless granted). */
const grantedRoots = (policy: AccessPolicy): string[] =>
  coveringPrefixes(policy.rules.flatMap((rule) => rule.prefixes));

const policyChannels = (policy: AccessPolicy): string[] => [
  ...new Set([...policy.rules.flatMap((rule) => rule.who.channels), ...policy.admins.channels]),
];

async function identifyBot(
  token: string,
  apiUrl: string | undefined,
): Promise<{ botId: string; botUserId: string }> {
  const client = new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 2 },
  });
  try {
    const answer = await client.auth.test();
    return { botId: answer.bot_id ?? "", botUserId: answer.user_id ?? "" };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
    throw new HandoutError(
      "CONFIG_INVALID",
      code === "invalid_auth" || code === "not_authed" || code === "token_revoked"
        ? `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token again from the Slack app's OAuth & Permissions page.`
        : `Could not reach Slack to check SLACK_BOT_TOKEN (${code}): check the network${apiUrl ? " and SLACK_API_URL" : ""}.`,
      { cause: error },
    );
  }
}

/**
 * Composes Handout from the environment: configuration, policy, signing key, bucket index, Slack
 * clients. Every failure here is final and says what to fix. The index builds in the background.
 */
export async function buildHandout(env: NodeJS.ProcessEnv, logger: Logger): Promise<Handout> {
  const config: Config = loadConfig(env, ["slack", "bucket", "signing"]);
  const slack = config.slack as NonNullable<Config["slack"]>;
  const bucket = config.bucket as NonNullable<Config["bucket"]>;
  const signing = config.signing as NonNullable<Config["signing"]>;

  const policy = await loadPolicyFile(config.policyFile);
  const { signer } = await startSigner(signing, logger);
  const bot = await identifyBot(slack.botToken, slack.apiUrl);
  const ledger = await openLedger(config.ledger);

  const s3 = createS3Client(bucket);
  const index = new FileIndex({
    source: s3PageSource(s3, bucket.name),
    roots: grantedRoots(policy),
    refreshIntervalMs: config.indexRefreshSeconds * 1000,
    logger,
  });
  index.start();

  const client = new WebClient(slack.botToken, {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    retryConfig: SLACK_RETRIES,
  });
  const directory = slackDirectory({
    client,
    policyChannels: () => policyChannels(policy),
    cacheSeconds: 60,
    logger,
  });
  const context: HandoutContext = {
    policy: () => policy,
    directory,
    search: index,
    seal: new MetadataSeal(slack.signingSecret ?? slack.botToken),
    refs: new KeyRefs(),
    logger,
    share: {
      directory,
      policy: () => policy,
      catalog: s3FileCatalog(s3, bucket.name),
      signer,
      poster: slackPoster(client, logger),
      ledger,
      messages: slackShareMessages(client, () => new Date()),
      now: () => new Date(),
      fileGone: (key) => index.fileGone(key),
    },
  };
  const expiry: ExpiryScheduler = startExpiryScheduler(
    context.share,
    config.expiryCheckSeconds * 1000,
    logger,
  );
  return {
    config,
    slack,
    context,
    index,
    bot,
    health() {
      const status = index.status();
      return { index: { files: status.files, complete: status.complete, building: status.building } };
    },
    expiry,
    async close() {
      await expiry.stop();
      await index.stop();
      await ledger.close();
      s3.destroy();
    },
  };
}

/** Builds Handout and serves Slack over HTTP or Socket Mode; `/healthz` in both. */
export async function startHandout(env: NodeJS.ProcessEnv, logger: Logger): Promise<RunningHandout> {
  const handout = await buildHandout(env, logger);
  const running = await startSlackApp({
    settings: handout.slack,
    logger,
    port: handout.config.port,
    botId: handout.bot.botId,
    botUserId: handout.bot.botUserId,
    health: () => handout.health(),
    context: handout.context,
  });
  logger.info({ port: running.port, mode: handout.slack.appToken ? "socket" : "http" }, "Handout is running");
  return {
    port: running.port,
    index: handout.index,
    expiry: handout.expiry,
    async stop() {
      await running.stop();
      await handout.close();
    },
  };
}
