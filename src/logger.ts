import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

// Signed-URL signatures and Slack tokens, wherever they appear in a logged string.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/([?&](?:Signature|Policy)=)[^&\s"'<>|]+/g, "$1[redacted]"],
  [/\bxox[abeoprs]-[A-Za-z0-9-]+/g, "xox?-[redacted]"],
  [/\bxapp-[A-Za-z0-9-]+/g, "xapp-[redacted]"],
  // A response URL lets whoever holds it post into the conversation for 30 minutes.
  [/(https:\/\/hooks\.slack(?:-gov)?\.com\/(?:commands|actions|app)\/)[^\s"'<>]+/g, "$1[redacted]"],
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    "[redacted private key]",
  ],
];

export const scrub = (text: string): string =>
  SECRET_PATTERNS.reduce((result, [pattern, replacement]) => result.replace(pattern, replacement), text);

const scrubValue = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return scrub(value);
  if (value instanceof Error)
    return { type: value.name, message: scrub(value.message), stack: value.stack && scrub(value.stack) };
  if (value === null || typeof value !== "object") return value;
  if (depth > 4) return "[truncated]";
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, depth + 1)]));
};

export type LogFormat = "json" | "pretty";

/** LOG_FORMAT when set; otherwise readable lines for a person at a terminal, and JSON for machines. */
export const logFormatFor = (setting: LogFormat | undefined, stream: { isTTY?: boolean }): LogFormat =>
  setting ?? (stream.isTTY ? "pretty" : "json");

/**
 * The one logger, writing to stderr unless given a destination. Code never passes tokens, keys or full
 * signed URLs to it; the scrubbing here is a second line of defence, for what libraries log on their
 * own, and comes before either format.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: LogFormat = "json",
): Logger {
  const stream =
    format === "pretty"
      ? pretty({
          destination: destination ?? 2,
          // Written before the line returns, so that nothing is lost when the process exits.
          sync: true,
          colorize: destination === undefined && process.stderr.isTTY === true,
          translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
          ignore: "app",
        })
      : (destination ?? pino.destination(2));
  return pino(
    {
      level,
      base: { app: "handout" },
      formatters: { log: (object) => scrubValue(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          return method.apply(this, args.map((arg) => scrubValue(arg)) as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}
