import { existsSync } from "node:fs";

/**
 * Reads `.env` from the working directory into the environment when there is one, as `.env.example`
 * suggests; a variable the environment already sets wins. Answers whether a file was read.
 */
export function readDotEnv(path = ".env"): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}
