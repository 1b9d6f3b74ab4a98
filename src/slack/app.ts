import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from "@slack/bolt";
import type { SlackSettings } from "../config.js";
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

/** Slack's 429s are retried after the Retry-After it sends; a person is waiting, so not for long. */
export const SLACK_RETRIES = { retries: 3, factor: 2, minTimeout: 500, maxRetryTime: 20_000 };

export interface SlackAppOptions {
  readonly settings: SlackSettings;
  readonly context: HandoutContext;
  readonly logger: Logger;
  readonly port: number;
  /** From auth.test, which the composition root calls itself so that a bad token stops start-up. */
  readonly botId: string;
  readonly botUserId: string;
  /** Answers GET /healthz. */
  readonly health: () => Record<string, unknown>;
}

export interface RunningSlackApp {
  readonly app: App;
  /** The HTTP port actually listened on (events in HTTP mode, /healthz in both). */
  readonly port: number;
  stop(): Promise<void>;
}

export async function startSlackApp(options: SlackAppOptions): Promise<RunningSlackApp> {
  const { settings, logger } = options;
  const slackLogger = boltLogger(logger);
  const customRoutes = [
    {
      path: "/healthz",
      method: ["GET"],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, ...options.health() }));
      },
    },
  ];
  const receiver: Receiver = settings.appToken
    ? new SocketModeReceiver({
        appToken: settings.appToken,
        customRoutes,
        installerOptions: { port: options.port },
        logger: slackLogger,
      })
    : new HTTPReceiver({
        signingSecret: settings.signingSecret as string,
        endpoints: "/slack/events",
        customRoutes,
        logger: slackLogger,
      });

  const app = createSlackApp({ ...options, receiver });
  const started = (await app.start(options.port)) as unknown;
  // HTTP mode returns the server; Socket Mode serves /healthz on installerOptions.port.
  const server =
    started instanceof Object && "address" in (started as object) ? (started as Server) : undefined;
  const port = server ? (server.address() as AddressInfo).port : options.port;
  return { app, port, stop: () => app.stop() as Promise<void> };
}

/** The Bolt app with Handout's listeners, on any receiver (AWS Lambda's included). */
export function createSlackApp(
  options: Omit<SlackAppOptions, "port" | "health"> & { readonly receiver: Receiver },
): App {
  const { settings, context, logger, receiver } = options;
  const slackLogger = boltLogger(logger);
  const app = new App({
    token: settings.botToken,
    receiver,
    botId: options.botId,
    botUserId: options.botUserId,
    logger: slackLogger,
    clientOptions: {
      ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
      retryConfig: SLACK_RETRIES,
    },
  });

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
