import { chmodSync, mkdtempSync } from "node:fs";
import { readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The suite must leave nothing behind: no process it started (an orphaned `node dist/main.js` keeps
 * serving) and no temporary folder (some hold private keys). The run gets a temporary directory of its
 * own, inherited by the test workers and the processes they start; at the end it must be empty and
 * no process the run started may still work in the checkout or in that directory.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}${sep}`);

interface Process {
  readonly pid: number;
  readonly ppid: number;
  readonly cwd: string;
  readonly cmdline: string;
  readonly environ: string;
}

async function processes(): Promise<Process[]> {
  const found = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`);
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replaceAll("\0", " ").trim();
      const environ = await readFile(`/proc/${entry}/environ`, "utf8");
      const status = await readFile(`/proc/${entry}/status`, "utf8");
      const ppid = Number(/^PPid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      found.push({ pid: Number(entry), ppid, cwd, cmdline, environ });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Each process's parent chain up to init. */
function ancestorsOf(pid: number, parents: ReadonlyMap<number, number>): Set<number> {
  const seen = new Set<number>();
  for (let at = pid; at > 1 && !seen.has(at); at = parents.get(at) ?? 0) seen.add(at);
  return seen;
}

export default async function setup(): Promise<() => Promise<void>> {
  const runDir = mkdtempSync(join(tmpdir(), "handout-test-run-"));
  // Other users may pass through (the image's test runs the app as uid 1000); each folder in it is
  // still private to whoever made it.
  chmodSync(runDir, 0o711);
  process.env.TMPDIR = runDir;
  const before = new Set((await processes()).map((p) => p.pid));

  return async function teardown() {
    // The run's own: started under this process, or given the run's temporary directory (which an
    // orphan keeps after its parent is gone). Other work in the checkout is not the run's to judge.
    const leftOver = async () => {
      const all = await processes();
      const parents = new Map(all.map((p) => [p.pid, p.ppid]));
      const mine = ancestorsOf(process.pid, parents);
      const ours = (p: Process) =>
        ancestorsOf(p.pid, parents).has(process.pid) ||
        p.environ.includes(`TMPDIR=${runDir}\0`) ||
        p.cmdline.includes(runDir);
      const working = (p: Process) =>
        within(p.cwd, ROOT) || within(p.cwd, runDir) || p.cmdline.includes(runDir);
      return all.filter((p) => !before.has(p.pid) && !mine.has(p.pid) && ours(p) && working(p));
    };
    // A process told to stop may take a moment to go.
    let left = await leftOver();
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await leftOver();
    }
    for (const { pid } of left) process.kill(pid, "SIGKILL");
    // Compile caches kept there on purpose, to be reused: tsx's, and Node's own (Node 22.1 and later,
    // which npm turns on). Not leftovers.
    const folders = (await readdir(runDir)).filter((name) => !/^(tsx-\d+|node-compile-cache)$/.test(name));
    await rm(runDir, { recursive: true, force: true });
    const problems = [
      ...left.map((p) => `process ${p.pid} (${p.cmdline}) still running in ${p.cwd}`),
      ...folders.map((name) => `temporary folder ${name} left in the run's temporary directory`),
    ];
    if (problems.length > 0) {
      // vitest reports an error thrown here but still exits 0 unless told otherwise.
      process.exitCode = 1;
      throw new Error(`The test run left things behind (now removed):\n  ${problems.join("\n  ")}`);
    }
  };
}
