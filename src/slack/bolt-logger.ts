import { LogLevel, type Logger as SlackLogger } from "@slack/logger";
import type { Logger } from "../logger.js";

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** Bolt and the Web API client log through the app's one logger. */
export function boltLogger(logger: Logger): SlackLogger {
  let child = logger.child({ component: "slack" });
  const text = (part: unknown): string => {
    if (typeof part === "string") return part;
    if (part instanceof Error) return `${part.name}: ${part.message}`;
    try {
      return JSON.stringify(part);
    } catch {
      return String(part);
    }
  };
  const join = (parts: unknown[]) => parts.map(text).join(" ");
  // The Slack libraries log a great deal at debug level: build the text only when it will be written.
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (...msg: unknown[]) => {
      if (child.isLevelEnabled(level)) child[level](join(msg));
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    setLevel: () => {},
    getLevel: () => LEVELS[logger.level] ?? LogLevel.INFO,
    setName: (name) => {
      child = logger.child({ component: name });
    },
  };
}
