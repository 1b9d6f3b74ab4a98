import { realpathSync } from "node:fs";
import { delimiter, extname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const realpath = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/**
 * How to run Handout's command line from `cwd`, as messages should print it: `handout` where that is
 * this installation's command on the PATH, otherwise the entry beside the running code (`node
 * dist/cli.js` after a build, `npx tsx src/cli.ts` in a checkout run from source).
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const ext = extname(fileURLToPath(import.meta.url));
  // Beside this module's folder, or beside the file when it is the server's bundle (dist/main.js).
  const entry = [`../cli${ext}`, `./cli${ext}`]
    .map((path) => realpath(fileURLToPath(new URL(path, import.meta.url))))
    .find((path) => path !== undefined);
  // A bundle (the Lambda's) has no command line beside it.
  if (!entry) return "handout";
  const onPath = (env.PATH ?? "")
    .split(delimiter)
    .some((dir) => dir && realpath(join(dir, "handout")) === entry);
  if (onPath) return "handout";
  const fromCwd = relative(cwd, entry);
  const path = isAbsolute(fromCwd) || fromCwd.startsWith("..") ? entry : fromCwd;
  const quoted = /^[\w./-]+$/.test(path) ? path : JSON.stringify(path);
  return ext === ".ts" ? `npx tsx ${quoted}` : `node ${quoted}`;
}
