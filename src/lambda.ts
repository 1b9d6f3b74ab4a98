import { AwsLambdaReceiver } from "@slack/bolt";
import { buildHandoutWith, type Handout } from "./app/server.js";
import { ConfigError, loadConfig, SERVER_NEEDS } from "./config/config.js";
import { isHandoutError } from "./domain/errors.js";
import { type GateResponse, isGatePath } from "./links/gate/gate.js";
import { gateUnavailable } from "./links/gate/pages.js";
import { createLogger, type Logger, logFormatFor } from "./logger.js";
import { isS3Event, type ObjectEventApplier } from "./search/object-events.js";
import { createSlackApp, SLACK_RETRIES } from "./slack/app.js";
import { boltLogger } from "./slack/bolt-logger.js";

/**
 * The AWS Lambda entry point (`npm run build:lambda` bundles it as `index.handler`), for a function URL
 * or an API Gateway HTTP API in front of Slack's request URLs.
 *
 * On Lambda, Bolt's receiver answers Slack only when every listener has finished: what a listener does
 * after `ack()` still runs before the HTTP answer leaves. That keeps the function alive for the slow
 * follow-up work (a share's signing, recording and posting) — nothing is cut off when the answer is
 * sent — but it also means a listener's whole run, not only its ack, must fit in Slack's 3 seconds,
 * cold start included. So on Lambda a submission acknowledges with its outcome (the share is done by
 * then) rather than showing progress and updating the modal afterwards: `ackWaitsForListener`.
 */

type SlackHandler = ReturnType<AwsLambdaReceiver["toHandler"]>;
export type LambdaEvent = Parameters<SlackHandler>[0];
export type LambdaResponse = Awaited<ReturnType<SlackHandler>>;

// Made from the parsed settings on the first event, as main.ts does: until then nothing logs.
let logger: Logger | undefined;

interface Started {
  readonly slackHandler: SlackHandler;
  readonly gate: Handout["gate"];
  /** The expiry pass (expired links' messages, announcement reminders). */
  readonly expiry: { runNow(keepGoing?: () => boolean): Promise<number> };
  /** S3's object events, which the EventBridge rule sends; undefined without HANDOUT_INDEX_EVENTS. */
  readonly objectEvents: ObjectEventApplier | undefined;
  /** Made from the parsed settings. */
  readonly logger: Logger;
  /** Starts the index's listing, unless it has started. */
  readonly startListing: () => void;
}

/**
 * What an EventBridge schedule sends (`rate(5 minutes)`): Lambda runs no timers between invocations, so
 * the schedule drives the expiry pass. Only an invoke allowed by IAM can carry it: a function URL's
 * events are HTTP requests, whose fields a caller cannot set.
 */
const isScheduledEvent = (event: unknown): boolean => {
  const e = event as { source?: unknown; "detail-type"?: unknown; requestContext?: unknown };
  return (
    e.source === "aws.events" && e["detail-type"] === "Scheduled Event" && e.requestContext === undefined
  );
};

async function start(): Promise<Started> {
  const config = loadConfig(process.env, { ...SERVER_NEEDS, slack: "required" });
  const log = createLogger(config.logLevel, undefined, logFormatFor(config.logFormat, process.stderr));
  logger = log;
  const settings = config.slack;
  // A container's disk is read-only but for /tmp, and lost with the container: shares would be forgotten.
  if (process.env.AWS_LAMBDA_FUNCTION_NAME && config.ledger.kind === "sqlite") {
    throw new ConfigError([
      "HANDOUT_LEDGER must be dynamodb:TABLE on AWS Lambda: a SQLite file would be lost with each container. Create the table as the README's AWS Lambda section says.",
    ]);
  }
  if (!settings?.signingSecret || settings.appToken) {
    throw new ConfigError([
      "On AWS Lambda, Slack reaches Handout over HTTP: set SLACK_SIGNING_SECRET and leave SLACK_APP_TOKEN unset (Socket Mode needs a long-running process; use the Docker image for it).",
    ]);
  }
  // Nothing runs between requests on Lambda: an EventBridge schedule drives the expiry pass.
  // The EventBridge rule invokes the function with S3's events: no queue to read.
  // The listing that catches up after a snapshot waits for the first answer (see `handler`).
  const { slack, objectEvents, gate, indexReady, startListing } = await buildHandoutWith(config, log, {
    expiryTimer: false,
    eventQueue: false,
    listAfterSnapshotWhenAsked: true,
  });
  if (!slack)
    throw new ConfigError(["SLACK_BOT_TOKEN is not set: Handout on AWS Lambda only answers Slack."]);
  const receiver = new AwsLambdaReceiver({
    signingSecret: settings.signingSecret,
    logger: boltLogger(log),
  });
  createSlackApp({
    settings: slack.settings,
    context: { ...slack.context, ackWaitsForListener: true },
    logger: log,
    botId: slack.bot.botId,
    botUserId: slack.bot.botUserId,
    clientOptions: slack.clientOptions,
    receiver,
  });
  const slackHandler = await receiver.start();
  // The snapshot has been loading beside the rest of the start: the first type-ahead waits for it, and
  // then searches the whole bucket instead of the few keys a new listing has reached.
  await indexReady;
  log.info("Handout is ready on AWS Lambda");
  return { slackHandler, gate, expiry: slack.expiry, objectEvents, startListing, logger: log };
}

/** A function URL's request (payload format 2.0), as far as the gate reads it. */
interface HttpEvent {
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly cookies?: readonly string[];
  readonly requestContext?: { readonly http?: { readonly method?: string } };
}

const gatePathOf = (event: unknown): string | undefined => {
  const path = (event as HttpEvent).rawPath;
  return typeof path === "string" && isGatePath(path) ? path : undefined;
};

/** Payload 2.0 carries cookies apart from the headers, both ways. */
async function answerGate(
  gate: NonNullable<Handout["gate"]>,
  event: HttpEvent,
  path: string,
  log: Logger,
): Promise<LambdaResponse> {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const method = event.requestContext?.http?.method ?? "GET";
  let answer: GateResponse;
  try {
    answer = await gate({
      method,
      url: `${path}${query}`,
      cookie: event.cookies?.join("; ") ?? event.headers?.cookie,
      userAgent: event.headers?.["user-agent"],
    });
  } catch (error) {
    // The path only: a callback's query carries a one-time code.
    log.error({ err: error, path }, "the members-only gate failed");
    answer = gateUnavailable();
  }
  const { "set-cookie": cookies, ...headers } = answer.headers;
  return {
    statusCode: answer.status,
    headers: headers as Record<string, string>,
    ...(cookies ? { cookies: Array.isArray(cookies) ? cookies : [cookies] } : {}),
    body: method === "HEAD" ? "" : (answer.body ?? ""),
  } as LambdaResponse;
}

// Built once per container, on its first event; a failed start is retried by the next event.
let ready: Promise<Started> | undefined;

/** Two arguments and a promise: Lambda's Node.js 24 runtime refuses callback-style handlers. */
export const handler = async (event: LambdaEvent, context: unknown): Promise<LambdaResponse> => {
  const started = await startOnce();
  try {
    return await answer(started, event, context);
  } finally {
    // The listing that catches up with the bucket after a snapshot starts once the first answer is
    // out, so that a cold start's first answer does not share the CPU with it (without a snapshot it
    // started at once). It goes on while the container runs; S3's events keep the index fresh meanwhile.
    started.startListing();
  }
};

function startOnce(): Promise<Started> {
  ready ??= start().catch((error: unknown) => {
    ready = undefined;
    const message = isHandoutError(error) ? error.message : "Handout could not start on AWS Lambda";
    // Settings that do not parse leave no logger to say so: their problems go to stderr, as main.ts's do.
    if (logger) logger.fatal({ err: error }, message);
    else process.stderr.write(`${message}\n`);
    throw error;
  });
  return ready;
}

async function answer(started: Started, event: LambdaEvent, context: unknown): Promise<LambdaResponse> {
  // As with the schedule, only an invoke allowed by IAM (the rule) carries one: not an HTTP request.
  if (isS3Event(event) && (event as { requestContext?: unknown }).requestContext === undefined) {
    if (!started.objectEvents) {
      started.logger.warn(
        "an S3 object event arrived but HANDOUT_INDEX_EVENTS is not set: set it to eventbridge so that the index applies them",
      );
      return { statusCode: 200, body: JSON.stringify({ ok: false }) };
    }
    const report = started.objectEvents.applyRaw([event]);
    return { statusCode: 200, body: JSON.stringify({ ok: report.invalid === 0, ...report }) };
  }
  if (isScheduledEvent(event)) {
    // Stop taking shares while one more Slack call, retries included, still fits: a share claimed
    // but not edited (or a reminder claimed but not sent) would wait for nobody.
    const remaining = (context as { getRemainingTimeInMillis?: () => number }).getRemainingTimeInMillis;
    const margin = SLACK_RETRIES.maxRetryTime + 5000;
    const stopAt = remaining ? Date.now() + remaining.call(context) - margin : Number.POSITIVE_INFINITY;
    const expired = await started.expiry.runNow(() => Date.now() < stopAt);
    return { statusCode: 200, body: JSON.stringify({ ok: true, expired }) };
  }
  const gatePath = gatePathOf(event);
  if (gatePath !== undefined && started.gate)
    return answerGate(started.gate, event as HttpEvent, gatePath, started.logger);
  return started.slackHandler(event, context);
}
