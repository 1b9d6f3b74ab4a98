import { existsSync } from "node:fs";

/**
 * Reads `.env` from the working directory into the environment when there is one, as `.env.example`
 * suggests; a variable the environment already sets wins. Answers whether a file was read; throws,
 * saying what to do, when there is one but it cannot be read.
 */
export function readDotEnv(path = ".env"): boolean {
  if (!existsSync(path)) return false;
  if (typeof process.loadEnvFile !== "function") {
    throw new Error(
      `Reading ${path} needs Node 20.12 or later (this is ${process.versions.node}): upgrade Node, or set the variables in the environment.`,
    );
  }
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new Error(
      `Could not read ${path} (${(error as Error).message}): check that it is a readable file.`,
    );
  }
  return true;
}
