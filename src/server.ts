import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { CloudFrontKeyValueStoreClient } from "@aws-sdk/client-cloudfront-keyvaluestore";
import { ErrorCode, WebClient } from "@slack/web-api";
import { FileIndex } from "./adapters/file-index.js";
import { keyValueStoreRevocationList } from "./adapters/revocation-store.js";
import { slackDirectory } from "./adapters/slack-directory.js";
import { slackShareMessages } from "./adapters/slack-messages.js";
import { slackPoster } from "./adapters/slack-poster.js";
import { cliCommand } from "./cli-command.js";
import { type Config, loadConfig, type SlackSettings } from "./config.js";
import { HandoutError, isHandoutError } from "./domain/errors.js";
import type { AccessPolicy } from "./domain/policy.js";
import { coveringPrefixes } from "./domain/search.js";
import { type ExpiryScheduler, startExpiryScheduler } from "./expiry-scheduler.js";
import { startHttpServer } from "./http-server.js";
import { homePage } from "./links/home-page.js";
import type { Logger } from "./logger.js";
import { loadPolicyFile, parsePolicy } from "./policy-file.js";
import { createSlackApp, SLACK_RETRIES, slackReceiver } from "./slack/app.js";
import { boltLogger } from "./slack/bolt-logger.js";
import type { HandoutContext } from "./slack/context.js";
import { KeyRefs } from "./slack/key-refs.js";
import { MetadataSeal } from "./slack/metadata.js";
import { slackErrorCode } from "./slack/slack-error.js";
import { openStorage, type Storage } from "./storage.js";
import { openLedger } from "./wiring.js";

export interface RunningHandout {
  readonly port: number;
  readonly index: FileIndex;
  /** Undefined without Slack: there are no messages to keep up to date. */
  readonly expiry: ExpiryScheduler | undefined;
  /** Reads the policy file again (SIGHUP); see `Handout.reloadPolicy`. */
  reloadPolicy(): Promise<PolicyReload>;
  stop(): Promise<void>;
}

/** What reading the policy file again did: taken, or refused with the old policy kept. */
export type PolicyReload =
  | { readonly ok: true; readonly rules: number }
  | { readonly ok: false; readonly error: string };

/** Handout's parts, wired and started, for any Slack receiver (HTTP, Socket Mode, AWS Lambda). */
export interface Handout {
  readonly config: Config;
  readonly storage: Storage;
  readonly index: FileIndex;
  /** Undefined until Slack is configured: Handout then only serves links and /healthz. */
  readonly slack:
    | {
        readonly settings: SlackSettings;
        readonly context: HandoutContext;
        readonly bot: { botId: string; botUserId: string };
        readonly expiry: ExpiryScheduler;
      }
    | undefined;
  /** What GET /healthz reports. */
  health(): Record<string, unknown>;
  /**
   * Reads the policy file again. A valid one takes effect for every request from now on, and the
   * index re-lists when it grants other folders; an invalid one is refused, and the policy in force
   * stays, so that a typo never opens or closes access by accident.
   */
  reloadPolicy(): Promise<PolicyReload>;
  close(): Promise<void>;
}

/** For trying Handout on a local folder: everyone (not guests) may share everything in it for a week. */
const TRIAL_POLICY = `rules:
  - name: Everyone, while trying Handout on a local folder
    who: { everyone: true }
    whole_bucket: true
    max_expiry: 7d
`;

/** Every prefix the policy grants anyone: what the index lists (not the whole bucket unless granted). */
const grantedRoots = (policy: AccessPolicy): string[] =>
  coveringPrefixes(policy.rules.flatMap((rule) => rule.prefixes));

const policyChannels = (policy: AccessPolicy): string[] => [
  ...new Set([...policy.rules.flatMap((rule) => rule.who.channels), ...policy.admins.channels]),
];

async function identifyBot(
  token: string,
  apiUrl: string | undefined,
): Promise<{ botId: string; botUserId: string; teamId: string | undefined }> {
  const client = new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 2 },
  });
  try {
    const answer = await client.auth.test();
    return { botId: answer.bot_id ?? "", botUserId: answer.user_id ?? "", teamId: answer.team_id };
  } catch (error) {
    const code = slackErrorCode(error) ?? (error as Error).message;
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
 * The policy file, or in the embedded default without one, the trial policy. `trialAllowed: false`
 * refuses the fallback: a file removed while Handout runs must not open sharing to everyone.
 */
async function loadPolicy(
  config: Config,
  logger: Logger,
  { trialAllowed = true } = {},
): Promise<{ policy: AccessPolicy; trial: boolean }> {
  try {
    return { policy: await loadPolicyFile(config.policyFile), trial: false };
  } catch (error) {
    const missing = (error as { problems?: { message: string }[] }).problems?.[0]?.message.includes(
      "does not exist",
    );
    if (!config.local || !missing || !trialAllowed) throw error;
    logger.warn(
      { policyFile: config.policyFile },
      "no access policy: everyone in the workspace may share every file in the local folder for up to 7 days; copy access.example.yml to access.yml to decide who may share what",
    );
    return { policy: parsePolicy(TRIAL_POLICY, "the built-in trial policy"), trial: true };
  }
}

/**
 * Composes Handout from the environment: configuration, policy, storage and signing, the bucket index,
 * the ledger and Slack. Every failure here is final and says what to fix. The index builds in the
 * background: Handout serves at once.
 */
export interface BuildOptions {
  /** Run the expiry pass on a timer (default); AWS Lambda runs it when a schedule invokes it instead. */
  readonly expiryTimer?: boolean;
}

export async function buildHandout(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  options: BuildOptions = {},
): Promise<Handout> {
  const config: Config = loadConfig(env, ["bucket", "signing"]);
  let { policy, trial } = await loadPolicy(config, logger);
  const ledger = await openLedger(config.ledger);
  // The embedded link server refuses revoked shares' links itself, as the CloudFront Function does.
  const storage = await openStorage(config, logger, {
    isRevoked: async (id) => (await ledger.get(id))?.state === "revoked",
  });
  const settings = config.slack;
  if (settings && !settings.appToken && !settings.signingSecret) {
    loadConfig(env, ["slack"]); // throws, naming SLACK_SIGNING_SECRET and SLACK_APP_TOKEN
  }
  const bot = settings ? await identifyBot(settings.botToken, settings.apiUrl) : undefined;

  const index = new FileIndex({
    source: storage.pages,
    roots: grantedRoots(policy),
    refreshIntervalMs: config.indexRefreshSeconds * 1000,
    logger,
  });
  index.start();

  let slack: Handout["slack"];
  if (settings && bot) {
    const client = new WebClient(settings.botToken, {
      ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
      retryConfig: SLACK_RETRIES,
    });
    const directory = slackDirectory({
      client,
      policyChannels: () => policyChannels(policy),
      teamId: bot.teamId,
      cacheSeconds: 60,
      logger,
    });
    const context: HandoutContext = {
      policy: () => policy,
      directory,
      search: index,
      seal: new MetadataSeal(settings.signingSecret ?? settings.botToken),
      refs: new KeyRefs(index),
      logger,
      share: {
        directory,
        policy: () => policy,
        catalog: storage.catalog,
        signer: storage.signer,
        poster: slackPoster(client, logger),
        ledger,
        messages: slackShareMessages(client, () => new Date()),
        revocations: config.revocationStoreArn
          ? keyValueStoreRevocationList({
              client: new CloudFrontKeyValueStoreClient({}),
              kvsArn: config.revocationStoreArn,
            })
          : undefined,
        revokedLinksRefused: config.revocationStoreArn !== undefined || config.local !== undefined,
        now: () => new Date(),
        fileGone: (key) => index.fileGone(key),
      },
    };
    const expiry = startExpiryScheduler(
      context.share,
      {
        intervalMs: config.expiryCheckSeconds * 1000,
        reminderWindowMs:
          config.announcementReminderSeconds === undefined
            ? undefined
            : config.announcementReminderSeconds * 1000,
        timer: options.expiryTimer,
      },
      logger,
    );
    slack = { settings, context, bot, expiry };
  }

  let reloading: Promise<PolicyReload> = Promise.resolve({ ok: true, rules: policy.rules.length });
  return {
    config,
    storage,
    index,
    slack,
    reloadPolicy(): Promise<PolicyReload> {
      // One at a time, in the order asked: an older read finishing last must not win.
      reloading = reloading.then(async (): Promise<PolicyReload> => {
        let next: { policy: AccessPolicy; trial: boolean };
        try {
          next = await loadPolicy(config, logger, { trialAllowed: trial });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          logger.error(
            { policyFile: config.policyFile, err: error },
            "the policy file was not taken; the policy in force stays",
          );
          return { ok: false, error: message };
        }
        const before = grantedRoots(policy).join("\n");
        ({ policy, trial } = next);
        const roots = grantedRoots(policy);
        if (roots.join("\n") !== before) index.setRoots(roots);
        logger.info(
          {
            policyFile: config.policyFile,
            rules: policy.rules.length,
            // What was read, so that an unchanged file (a stale bind mount, say) shows.
            sha256: trial ? undefined : await fileDigest(config.policyFile),
          },
          "read the access policy again",
        );
        return { ok: true, rules: policy.rules.length };
      });
      return reloading;
    },
    health() {
      const status = index.status();
      return {
        slack: slack ? "connected" : "not configured",
        index: { files: status.files, complete: status.complete, building: status.building },
      };
    },
    async close() {
      await slack?.expiry.stop();
      await index.stop();
      await ledger.close();
      storage.close();
    },
  };
}

/**
 * Asks Slack once, without retrying, for a Socket Mode connection with the app token, so that a bad
 * token or an unreachable Slack stops start-up with what to fix: the Socket Mode client itself retries
 * most failures for as long as it runs.
 */
async function checkAppToken(appToken: string, apiUrl: string | undefined, logger: Logger): Promise<void> {
  const client = new WebClient(appToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: boltLogger(logger),
  });
  try {
    await client.apps.connections.open();
  } catch (error) {
    const code = slackErrorCode(error);
    const status = (error as { statusCode?: number }).statusCode;
    if (
      (error as { code?: string }).code === ErrorCode.RateLimitedError ||
      (status !== undefined && status >= 500)
    ) {
      throw new HandoutError(
        "CONFIG_INVALID",
        `Slack is busy and would not open a Socket Mode connection now (${status ?? "rate limited"}): start Handout again in a minute.`,
        { cause: error },
      );
    }
    if (code === undefined) {
      throw new HandoutError(
        "CONFIG_INVALID",
        `Could not reach Slack to open a Socket Mode connection (${(error as Error).message}): check the network${apiUrl ? " and SLACK_API_URL" : ""}.`,
        { cause: error },
      );
    }
    throw new HandoutError(
      "CONFIG_INVALID",
      code === "invalid_auth" ||
        code === "not_authed" ||
        code === "token_revoked" ||
        code === "account_inactive"
        ? `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token with the connections:write scope on the Slack app's Basic Information page.`
        : `Slack would not open a Socket Mode connection (${code}): check that Socket Mode is on in the Slack app's settings.`,
      { cause: error },
    );
  }
}

/** The first 12 hex digits of a file's SHA-256, or undefined when it cannot be read. */
const fileDigest = (path: string): Promise<string | undefined> =>
  readFile(path).then(
    (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 12),
    () => undefined,
  );

/** Builds Handout and serves: /healthz, Slack (HTTP or Socket Mode), and the embedded default's links. */
export async function startHandout(env: NodeJS.ProcessEnv, logger: Logger): Promise<RunningHandout> {
  const handout = await buildHandout(env, logger);
  const slack = handout.slack;
  const receiver = slack ? slackReceiver(slack.settings, logger) : undefined;
  const app =
    slack && receiver
      ? createSlackApp({ ...slack, logger, receiver, botId: slack.bot.botId, botUserId: slack.bot.botUserId })
      : undefined;
  const slackMode = slack ? (slack.settings.appToken ? "socket mode" : "http") : "not configured";
  const home = homePage({ sharing: handout.storage.description, slack: slackMode, cli: cliCommand() });
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  try {
    http = await startHttpServer({
      port: handout.config.port,
      health: () => handout.health(),
      links: handout.storage.links,
      home: handout.storage.links ? () => home : undefined,
      slack: receiver && "requestListener" in receiver ? receiver.requestListener : undefined,
    });
    // Socket Mode connects out to Slack; in HTTP mode the server above receives Slack's requests.
    if (app && slack?.settings.appToken) {
      await checkAppToken(slack.settings.appToken, slack.settings.apiUrl, logger);
      await app.start().catch((error: unknown) => {
        throw isHandoutError(error)
          ? error
          : new HandoutError("CONFIG_INVALID", `Could not start Socket Mode: ${(error as Error).message}`, {
              cause: error,
            });
      });
    }
  } catch (error) {
    // Whatever had started stops, so that the process can exit with the cause.
    await http?.stop().catch(() => undefined);
    await handout.close().catch(() => undefined);
    throw error;
  }
  const server = http;

  logger.info(
    {
      port: server.port,
      slack: slackMode,
    },
    `Handout is running on port ${server.port}, sharing ${handout.storage.description}`,
  );
  if (!slack) {
    logger.warn(
      `Slack is not connected: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode), then restart.${handout.storage.links ? ` Until then \`${cliCommand()} sign welcome.txt --expires 1h\` (or any file in the folder) makes links that this server serves.` : ""}`,
    );
  }
  // A second SIGTERM, or a stop during one, waits for the same stop.
  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    index: handout.index,
    expiry: slack?.expiry,
    reloadPolicy: () => handout.reloadPolicy(),
    stop() {
      stopping ??= (async () => {
        if (app && slack?.settings.appToken) await app.stop();
        await server.stop();
        await handout.close();
      })();
      return stopping;
    },
  };
}
