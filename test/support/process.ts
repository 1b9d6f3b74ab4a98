import { spawn } from "node:child_process";

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, with `input` on its standard input, keeping what it prints. With
 * `timeoutMs`, a command still running then is killed and its code is null: a server that starts
 * when it should have refused to fails the test rather than hanging it.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
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

/**
 * An environment for a child process: `PATH`, the clock the test runs under, the run's temporary
 * directory (by which the run finds what it left behind), and `env`.
 */
export function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = [...CLOCK_VARIABLES, "TMPDIR"]
    .filter((name) => process.env[name] !== undefined)
    .map((name) => [name, process.env[name]] as const);
  return { PATH: process.env.PATH, ...Object.fromEntries(kept), ...env };
}
