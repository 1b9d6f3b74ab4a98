import { type Logger, pino } from "pino";

export type { Logger };

/**
 * The one logger. Redaction is a second line of defence: code never passes tokens, keys or full
 * signed URLs to it in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: "handout" },
      redact: {
        paths: [
          "token",
          "*.token",
          "privateKey",
          "*.privateKey",
          "pem",
          "*.pem",
          "url",
          "*.url",
          "signature",
          "*.signature",
        ],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination(2),
  );
}
