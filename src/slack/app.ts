import { App, HTTPReceiver, type Receiver } from "@slack/bolt";
import type { WebClient, WebClientOptions } from "@slack/web-api";
import { ConfigError, type SlackSettings } from "../config/config.js";
import type { Logger } from "../logger.js";
import { boltLogger } from "./bolt-logger.js";
import type { HandoutContext } from "./context.js";
import {
  actionOf,
  DOWNLOAD_ACTION,
  EXTEND_ACTION,
  EXTEND_VIEW,
  Field,
  HOME_FILTER_ACTION,
  REVOKE_ACTION,
  SHARE_AGAIN_ACTION,
  SHARE_SHORTCUT,
  SHARE_VIEW,
} from "./ids.js";
import { downloadButton } from "./listeners/download-button.js";
import { extendSubmission } from "./listeners/extend-submission.js";
import { fileSuggestions } from "./listeners/file-suggestions.js";
import { homeFilter, homeOpened } from "./listeners/home.js";
import { extendButton, revokeButton } from "./listeners/share-actions.js";
import { shareCommand } from "./listeners/share-command.js";
import { shareShortcut } from "./listeners/share-shortcut.js";
import { shareSubmission } from "./listeners/share-submission.js";
import { SocketModeReceiver } from "./socket-mode.js";
import type { WorkInFlight } from "./work-in-flight.js";

/** Slack's 429s are retried after the Retry-After it sends; a person is waiting, so not for long. */
export const SLACK_RETRIES = { retries: 3, factor: 2, minTimeout: 500, maxRetryTime: 20_000 };

export interface SlackAppOptions {
  readonly settings: SlackSettings;
  readonly context: HandoutContext;
  readonly logger: Logger;
  /** From auth.test, which the composition root calls itself so that a bad token stops start-up. */
  readonly botId: string;
  readonly botUserId: string;
  /** Tracks the listeners' work, so that a shutdown can wait for it. */
  readonly work?: WorkInFlight | undefined;
  /** For the app's own Web API client: built by the composition root, which aims every Slack client. */
  readonly clientOptions: WebClientOptions;
}

/**
 * The Slack receiver for the settings: Socket Mode with an app token, otherwise HTTP, whose request
 * listener Handout's own HTTP server calls for /slack/events.
 */
export function slackReceiver(
  settings: SlackSettings,
  logger: Logger,
  socket: {
    /** The app-level token's Web API client, built by the composition root. */
    readonly appClient: (appToken: string) => WebClient;
    readonly downLimitMs: number;
    readonly now?: () => number;
  },
): HTTPReceiver | SocketModeReceiver {
  const { appClient, ...bounds } = socket;
  if (settings.appToken) {
    return new SocketModeReceiver({
      web: appClient(settings.appToken),
      apiUrl: settings.apiUrl,
      logger,
      ...bounds,
    });
  }
  // loadConfig asks for one of the two whenever Slack is needed; this names it should a caller skip that.
  if (!settings.signingSecret) {
    throw new ConfigError([
      "SLACK_SIGNING_SECRET is not set: set it to the app's signing secret, or set SLACK_APP_TOKEN to use Socket Mode.",
    ]);
  }
  return new HTTPReceiver({
    signingSecret: settings.signingSecret,
    endpoints: "/slack/events",
    logger: boltLogger(logger),
  });
}

/** The Bolt app with Handout's listeners, on any receiver (AWS Lambda's included). */
export function createSlackApp(options: SlackAppOptions & { readonly receiver: Receiver }): App {
  const { settings, context, logger, receiver } = options;
  const slackLogger = boltLogger(logger);
  const app = new App({
    token: settings.botToken,
    receiver,
    botId: options.botId,
    botUserId: options.botUserId,
    logger: slackLogger,
    clientOptions: options.clientOptions,
  });

  if (options.work) app.use(options.work.middleware);
  app.command("/share", shareCommand(context));
  app.shortcut(SHARE_SHORTCUT, shareShortcut(context));
  app.options({ action_id: actionOf(Field.files) }, fileSuggestions(context));
  app.view(SHARE_VIEW, shareSubmission(context));
  app.action(DOWNLOAD_ACTION, downloadButton);
  app.event("app_home_opened", homeOpened(context));
  app.action(HOME_FILTER_ACTION, homeFilter(context));
  app.action(REVOKE_ACTION, revokeButton(context));
  app.action(EXTEND_ACTION, extendButton(context));
  app.action(SHARE_AGAIN_ACTION, extendButton(context));
  app.view(EXTEND_VIEW, extendSubmission(context));
  app.error(async (error) => {
    logger.error({ err: error }, "a Slack listener failed");
  });
  return app;
}
