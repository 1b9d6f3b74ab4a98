import { spawn } from "node:child_process";

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, with `input` on its standard input, keeping what it prints. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/**
 * `faketime` moves the clock through these variables; a child given an environment of its own keeps
 * them, so that it sees the same time as the test that started it.
 */
const CLOCK_VARIABLES = [
  "LD_PRELOAD",
  "FAKETIME",
  "FAKETIME_SHARED",
  "FAKETIME_NO_CACHE",
  "DONT_FAKE_MONOTONIC",
];

/** An environment for a child process: `PATH`, the clock the test runs under, and `env`. */
export function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clock = CLOCK_VARIABLES.filter((name) => process.env[name] !== undefined).map(
    (name) => [name, process.env[name]] as const,
  );
  return { PATH: process.env.PATH, ...Object.fromEntries(clock), ...env };
}
