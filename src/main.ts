import { startHandoutWith } from "./app/server.js";
import { type Config, loadConfig, SERVER_NEEDS } from "./config/config.js";
import { readDotEnv } from "./config/env-file.js";
import { isHandoutError } from "./domain/errors.js";
import { createLogger, logFormatFor } from "./logger.js";

let dotEnv = false;
let config: Config;
try {
  dotEnv = readDotEnv();
  // Read once, before anything logs: a bad LOG_LEVEL is a setting to fix, like any other.
  config = loadConfig(process.env, SERVER_NEEDS);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger(config.logLevel, undefined, logFormatFor(config.logFormat, process.stderr));
if (dotEnv) logger.info("read settings from .env (the environment's own win)");

// Nothing ends the process unseen: an error no code handled is logged, and Handout stops as on SIGTERM.
let shutdown: ((signal: string, code?: number) => void) | undefined;
const fail = (what: string, error: unknown) => {
  logger.fatal({ err: error }, `${what}; stopping`);
  if (shutdown) shutdown("error", 1);
  else process.exit(1);
};
process.on("unhandledRejection", (error) => fail("a promise failed and nothing handled it", error));
process.on("uncaughtException", (error) => fail("an error reached the top and nothing handled it", error));

try {
  const handout = await startHandoutWith(config, logger);
  let stopping = false;
  shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: no new work; the work under way finishes first");
    handout.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        logger.error({ err: error }, "could not stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown?.("SIGTERM"));
  // Reads the access policy again; an invalid file is refused and the policy in force stays.
  process.on("SIGHUP", () => {
    void handout.reloadPolicy();
  });
  process.on("SIGINT", () => shutdown?.("SIGINT"));
} catch (error) {
  // Start-up failures are final: say what to fix, plainly, and stop.
  process.stderr.write(
    `${isHandoutError(error) ? error.message : `Handout could not start: ${String(error)}`}\n`,
  );
  process.exit(1);
}
