import { runCli } from "../../src/cli/run.js";

/** Runs one `handout` command line in-process, keeping what it prints. */
export async function runHandout(args: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    env,
    cwd,
    now: () => new Date(),
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
