import { type Config, loadConfig } from "./config.js";
import { isHandoutError } from "./domain/errors.js";
import { readDotEnv } from "./env-file.js";
import { createLogger, logFormatFor } from "./logger.js";
import { startHandout } from "./server.js";

let dotEnv = false;
let config: Config;
try {
  dotEnv = readDotEnv();
  // Checked before anything logs: a bad LOG_LEVEL is a setting to fix, like any other.
  config = loadConfig(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger(config.logLevel, undefined, logFormatFor(config.logFormat, process.stderr));
if (dotEnv) logger.info("read settings from .env (the environment's own win)");

try {
  const handout = await startHandout(process.env, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    handout.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "could not stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // Reads the access policy again; an invalid file is refused and the policy in force stays.
  process.on("SIGHUP", () => {
    void handout.reloadPolicy();
  });
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (error) {
  // Start-up failures are final: say what to fix, plainly, and stop.
  process.stderr.write(
    `${isHandoutError(error) ? error.message : `Handout could not start: ${String(error)}`}\n`,
  );
  process.exit(1);
}
