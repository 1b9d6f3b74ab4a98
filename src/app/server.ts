import type { WebClientOptions } from "@slack/web-api";
import { cliCommand } from "../config/cli-command.js";
import { type Config, loadConfig, SERVER_NEEDS, type SlackSettings } from "../config/config.js";
import { HandoutError, isHandoutError } from "../domain/errors.js";
import type { AccessPolicy } from "../domain/policy.js";
import { coveringPrefixes } from "../domain/search.js";
import { newShareId } from "../domain/share-id.js";
import { tellOpens } from "../domain/tell-opens.js";
import { createGate, type GateRequest, type GateResponse } from "../links/gate/gate.js";
import { nodeGateHandler } from "../links/gate/node-http.js";
import { cookieCodec } from "../links/gate/session.js";
import { homePage } from "../links/home-page.js";
import { memberLinkUrl } from "../links/member-links.js";
import type { Logger } from "../logger.js";
import { FileIndex } from "../search/file-index.js";
import { ObjectEventApplier } from "../search/object-events.js";
import { mergeSegments } from "../search/segment-merge.js";
import { createSlackApp, SLACK_RETRIES, slackReceiver } from "../slack/app.js";
import { openNoticeText } from "../slack/blocks/open-notice.js";
import { shareMessages } from "../slack/blocks/share-message.js";
import { shareStateViews } from "../slack/blocks/share-state.js";
import { boltLogger } from "../slack/bolt-logger.js";
import type { HandoutContext } from "../slack/context.js";
import { KeyRefs } from "../slack/key-refs.js";
import { MetadataSeal } from "../slack/metadata.js";
import { SocketModeReceiver } from "../slack/socket-mode.js";
import { slackDirectory } from "../slack/web/directory.js";
import { slackShareMessages } from "../slack/web/messages.js";
import { slackOpenNotices } from "../slack/web/open-notices.js";
import { slackPoster } from "../slack/web/poster.js";
import { responseUrlCheck } from "../slack/web/response-url.js";
import { slackErrorCode } from "../slack/web/slack-error.js";
import { WorkInFlight } from "../slack/work-in-flight.js";
import {
  createKeyValueStoreClient,
  createSlackClient,
  createSqsClient,
  slackClientOptions,
} from "./clients.js";
import { type ExpiryScheduler, startExpiryScheduler } from "./expiry-scheduler.js";
import { startHttpServer } from "./http-server.js";
import { restoreIndex, snapshotSaver } from "./index-snapshot.js";
import { holdPolicy, type PolicyReload } from "./policy.js";
import { ensureSessionSecret } from "./session-secret.js";
import { slackSignIn } from "./sign-in.js";
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

/** Handout's parts, wired and started, for any Slack receiver (HTTP, Socket Mode, AWS Lambda). */
export interface Handout {
  readonly config: Config;
  readonly storage: Storage;
  readonly index: FileIndex;
  /**
   * Settles once the index snapshot (HANDOUT_INDEX_SNAPSHOT) is loaded or found unusable, and the first
   * listing has started: a Lambda container waits for it so that its first search is complete.
   */
  readonly indexReady: Promise<void>;
  /** Starts the listing if it has not started (see `BuildOptions.listAfterSnapshotWhenAsked`). */
  startListing(): void;
  /** Applies S3's object events to the index; undefined when HANDOUT_INDEX_QUEUE_URL/EVENTS are unset. */
  readonly objectEvents: ObjectEventApplier | undefined;
  /** Undefined until Slack is configured: Handout then only serves links and /healthz. */
  readonly slack:
    | {
        readonly settings: SlackSettings;
        readonly context: HandoutContext;
        readonly bot: { botId: string; botUserId: string };
        readonly expiry: ExpiryScheduler;
        /** The listeners' work under way, which a shutdown lets finish. */
        readonly work: WorkInFlight;
        /** For the Bolt app's own Web API client. */
        readonly clientOptions: WebClientOptions;
      }
    | undefined;
  /** Members-only links (`/o/…`); undefined unless the gate is configured (HANDOUT_PUBLIC_URL). */
  readonly gate: ((request: GateRequest) => Promise<GateResponse>) | undefined;
  /** What GET /healthz reports of the index. */
  health(): Record<string, unknown>;
  /**
   * Reads the policy file again. A valid one takes effect for every request from now on, and the
   * index re-lists when it grants other folders; an invalid one is refused, and the policy in force
   * stays, so that a typo never opens or closes access by accident.
   */
  reloadPolicy(): Promise<PolicyReload>;
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
  logger: Logger,
): Promise<{ botId: string; botUserId: string; teamId: string | undefined }> {
  const client = createSlackClient(token, apiUrl, {
    retryConfig: { retries: 2 },
    logger: boltLogger(logger),
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
 * Composes Handout from the environment: configuration, policy, storage and signing, the bucket index,
 * the ledger and Slack. Every failure here is final and says what to fix. The index builds in the
 * background: Handout serves at once.
 */
export interface BuildOptions {
  /** Run the expiry pass on a timer (default); AWS Lambda runs it when a schedule invokes it instead. */
  readonly expiryTimer?: boolean;
  /** The clock every part reads: shares' times, expiry, and the embedded default's link checks. */
  readonly now?: () => Date;
  /** Read HANDOUT_INDEX_QUEUE_URL (default); on AWS Lambda the EventBridge rule invokes Handout instead. */
  readonly eventQueue?: boolean;
  /**
   * After a snapshot has loaded, leave the listing that catches up with the bucket until
   * `startListing()`. AWS Lambda calls it once a cold start's first answer is out, so that the two do
   * not share the container's CPU. Without a usable snapshot the listing starts at once all the same:
   * the index would have nothing to search.
   */
  readonly listAfterSnapshotWhenAsked?: boolean;
}

/** Reads the settings from `env`, then builds: for callers that have not read them yet. */
export const buildHandout = (env: NodeJS.ProcessEnv, logger: Logger, options: BuildOptions = {}) =>
  buildHandoutWith(loadConfig(env, SERVER_NEEDS), logger, options);

/** Builds from settings read once by the entry (`loadConfig(env, SERVER_NEEDS)` or more). */
export async function buildHandoutWith(
  config: Config,
  logger: Logger,
  options: BuildOptions = {},
): Promise<Handout> {
  const now = options.now ?? (() => new Date());
  const policies = await holdPolicy(config, logger);
  const policy = policies.current;
  const ledger = await openLedger(config.ledger);
  // Loaded only with a store to write to: its SDK and SigV4A are large for a cold Lambda container.
  const revocations = config.revocationStoreArn
    ? (await import("../links/revocation-store.js")).keyValueStoreRevocationList({
        client: await createKeyValueStoreClient(),
        kvsArn: config.revocationStoreArn,
      })
    : undefined;
  // The embedded link server refuses revoked shares' links itself, as the CloudFront Function does.
  const storage = await openStorage(config, logger, {
    now,
    isRevoked: async (id) => (await ledger.get(id))?.state === "revoked",
  });
  const snapshots = storage.snapshots;
  let saver: ReturnType<typeof snapshotSaver> | undefined;
  const index = new FileIndex({
    source: storage.pages,
    roots: grantedRoots(policy()),
    refreshIntervalMs: config.indexRefreshSeconds * 1000,
    hides: storage.isOwnObject,
    mergeSegments,
    logger,
    ...(snapshots ? { onComplete: (roots: readonly string[]) => saver?.save(roots) } : {}),
  });
  if (snapshots) saver = snapshotSaver(index, snapshots, storage.identity, logger, now);
  // The snapshot first, then the listing that catches up: a listing under way would take its place.
  const indexReady = (
    snapshots
      ? restoreIndex(index, snapshots, { bucket: storage.identity, roots: grantedRoots(policy()) }, logger)
      : Promise.resolve(false)
  ).then(
    (loaded) => {
      if (!(loaded && options.listAfterSnapshotWhenAsked)) index.start();
    },
    (error: unknown) => {
      logger.warn({ err: error }, "could not load the index snapshot; listing the bucket instead");
      index.start();
    },
  );

  // Slack is asked who the bot is while the snapshot loads: a cold start waits for the longer of the two.
  const settings = config.slack;
  const bot = settings
    ? await identifyBot(settings.botToken, settings.apiUrl, logger).catch(async (error: unknown) => {
        // Nothing started here may run on after a failed start.
        await indexReady;
        await index.stop();
        throw error;
      })
    : undefined;

  const bucketName = config.storage.mode === "aws" ? config.storage.bucket.name : undefined;
  const objectEvents =
    config.indexEvents && bucketName
      ? new ObjectEventApplier({ index, bucket: bucketName, logger })
      : undefined;
  const queue =
    objectEvents && config.indexEvents?.kind === "queue" && options.eventQueue !== false
      ? new (await import("../files/event-queue.js")).EventQueueReader({
          client: await createSqsClient(),
          queueUrl: config.indexEvents.queueUrl,
          apply: (events) => objectEvents.apply(events),
          logger,
        })
      : undefined;
  // After the snapshot: an event read before it would be undone by the snapshot's older copy.
  const queueStarted = indexReady.then(() => queue?.start());

  let slack: Handout["slack"];
  let openGate: Handout["gate"];
  if (settings && bot) {
    const client = createSlackClient(settings.botToken, settings.apiUrl, {
      retryConfig: SLACK_RETRIES,
      // Its warnings (rate limits, retries) in the app's log format, not as bare [WARN] lines.
      logger: boltLogger(logger),
    });
    const directory = slackDirectory({
      client,
      policyChannels: () => policyChannels(policy()),
      teamId: bot.teamId,
      cacheSeconds: 60,
      logger,
      now: () => now().getTime(),
    });
    const acceptsResponseUrl = responseUrlCheck(settings.apiUrl);
    const gate = config.gate;
    const work = new WorkInFlight();
    const context: HandoutContext = {
      overdue: work.overdue,
      policy,
      directory,
      search: index,
      seal: new MetadataSeal(settings.signingSecret ?? settings.botToken),
      acceptsResponseUrl,
      refs: new KeyRefs(index),
      logger,
      share: {
        directory,
        policy,
        catalog: storage.catalog,
        signer: storage.signer,
        poster: slackPoster(client, logger, acceptsResponseUrl, shareMessages),
        ledger,
        messages: slackShareMessages(client, now, shareStateViews),
        revocations,
        revokedLinksRefused: config.revocationStoreArn !== undefined || config.storage.mode === "local",
        now,
        newId: newShareId,
        fileGone: (key) => index.fileGone(key),
        memberLinks: gate ? { url: (id, n) => memberLinkUrl(gate.publicUrl, id, n) } : undefined,
      },
    };
    if (gate) {
      if (!bot.teamId) {
        throw new HandoutError(
          "CONFIG_INVALID",
          "Slack's auth.test named no workspace for SLACK_BOT_TOKEN: members-only links need it to check who signs in.",
        );
      }
      const sessionSecret =
        gate.sessionSecret ??
        (config.storage.mode === "local" ? await ensureSessionSecret(config.storage.stateDir) : undefined);
      if (!sessionSecret)
        throw new HandoutError(
          "CONFIG_INVALID",
          "HANDOUT_SESSION_SECRET is not set: set it to 32 or more random characters.",
        );
      openGate = createGate({
        ledger,
        directory,
        policy,
        signer: storage.signer,
        signIn: slackSignIn(gate),
        teamId: bot.teamId,
        codec: cookieCodec(sessionSecret),
        nameOf: async (userId) => {
          const { user } = await client.users.info({ user: userId });
          return user?.profile?.display_name || user?.real_name || user?.name || undefined;
        },
        now,
        logger,
      });
    }
    const notices = slackOpenNotices(client, openNoticeText);
    const expiry = startExpiryScheduler(
      context.share,
      {
        intervalMs: config.expiryCheckSeconds * 1000,
        reminderWindowMs:
          config.announcementReminderSeconds === undefined
            ? undefined
            : config.announcementReminderSeconds * 1000,
        timer: options.expiryTimer,
        tellOpens: gate
          ? (keepGoing) =>
              tellOpens(
                { ledger, notices, now },
                (share, error) =>
                  logger.warn(
                    { err: error, share: share.id },
                    "could not tell a sharer who opened their links",
                  ),
                keepGoing,
              )
          : undefined,
      },
      logger,
    );
    const clientOptions = slackClientOptions(settings.apiUrl, { retryConfig: SLACK_RETRIES });
    slack = { settings, context, bot, expiry, work, clientOptions };
  }

  return {
    config,
    storage,
    index,
    indexReady,
    startListing: () => index.start(),
    objectEvents,
    slack,
    gate: openGate,
    reloadPolicy: () =>
      policies.reload((before, after) => {
        const roots = grantedRoots(after);
        if (roots.join("\n") !== grantedRoots(before).join("\n")) index.setRoots(roots);
      }),
    health() {
      const status = index.status();
      return {
        index: { files: status.files, complete: status.complete, building: status.building },
      };
    },
    async close() {
      await slack?.expiry.stop();
      await queueStarted;
      await queue?.stop();
      await index.stop();
      await saver?.idle();
      await ledger.close();
      storage.close();
    },
  };
}

/** The clock every part reads, /healthz's measure of Socket Mode's time without a connection among them. */
export type StartOptions = Pick<BuildOptions, "now">;

/** After the grace period, how long work cut off has to tell the people waiting on it. */
const FINAL_WORD_MS = 1000;

/** Reads the settings from `env`, then starts: for callers that have not read them yet. */
export const startHandout = (env: NodeJS.ProcessEnv, logger: Logger, options: StartOptions = {}) =>
  startHandoutWith(loadConfig(env, SERVER_NEEDS), logger, options);

/** Builds Handout and serves: /healthz, Slack (HTTP or Socket Mode), and the embedded default's links. */
export async function startHandoutWith(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningHandout> {
  const handout = await buildHandoutWith(config, logger, options);
  const { slack } = handout;
  const now = options.now;
  const receiver = slack
    ? slackReceiver(slack.settings, logger, {
        // apps.connections.open goes where the rest of the Web API does (GovSlack, a test double), and
        // retrying is the receiver's own job, so that every failure is seen and said once.
        appClient: (appToken) =>
          createSlackClient(appToken, slack.settings.apiUrl, {
            retryConfig: { retries: 0 },
            rejectRateLimitedCalls: true,
            logger: boltLogger(logger),
          }),
        downLimitMs: config.socketDownLimitSeconds * 1000,
        ...(now ? { now: () => now().getTime() } : {}),
      })
    : undefined;
  const socket = receiver instanceof SocketModeReceiver ? receiver : undefined;
  const app =
    slack && receiver
      ? createSlackApp({
          ...slack,
          logger,
          receiver,
          botId: slack.bot.botId,
          botUserId: slack.bot.botUserId,
          work: slack.work,
        })
      : undefined;
  const slackMode = slack ? (slack.settings.appToken ? "socket mode" : "http") : "not configured";
  const cli = cliCommand();
  const home = homePage({ sharing: handout.storage.description, slack: slackMode, cli });
  let stopping: Promise<void> | undefined;
  const health = () => {
    const connection = socket?.health();
    const { healthy, ...shown } = connection ?? { healthy: true };
    return {
      ok: stopping === undefined && healthy,
      ...(stopping ? { stopping: true } : {}),
      slack: slack ? (socket ? { mode: "socket", ...shown } : { mode: "http" }) : "not configured",
      ...handout.health(),
    };
  };
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  try {
    http = await startHttpServer({
      port: config.port,
      health,
      links: handout.storage.links,
      gate: handout.gate && nodeGateHandler(handout.gate, logger),
      home: handout.storage.links ? () => home : undefined,
      slack: receiver && "requestListener" in receiver ? receiver.requestListener : undefined,
    });
    // Socket Mode connects out to Slack; in HTTP mode the server above receives Slack's requests.
    if (app && socket) {
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
      `Slack is not connected: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode), then restart.${handout.storage.links ? ` Until then \`${cli} sign welcome.txt --expires 1h\` (or any file in the folder) makes links that this server serves.` : ""}`,
    );
  }
  const graceMs = config.shutdownGraceSeconds * 1000;
  return {
    port: server.port,
    index: handout.index,
    expiry: slack?.expiry,
    reloadPolicy: () => handout.reloadPolicy(),
    // A second SIGTERM, or a stop during one, waits for the same stop.
    stop() {
      stopping ??= (async () => {
        // No new work: Socket Mode takes no more envelopes, the HTTP server no more connections.
        socket?.drain();
        server.stopAccepting();
        const running = slack?.work.size ?? 0;
        if (running > 0) logger.info({ running, graceMs }, "letting the work under way finish");
        const unfinished = (await slack?.work.settle(graceMs, FINAL_WORD_MS)) ?? 0;
        if (unfinished > 0) logger.warn({ unfinished }, "stopped with work still under way");
        if (app && socket) await app.stop();
        await server.stop();
        await handout.close();
      })();
      return stopping;
    },
  };
}
