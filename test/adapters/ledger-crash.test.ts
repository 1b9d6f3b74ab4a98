import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";

const CHILD = fileURLToPath(new URL("../support/ledger-crash-child.ts", import.meta.url));
const ROUNDS = 5;

/** Resolves once the child says it is sharing (its start-up time is not what is being tested). */
async function ready(child: ChildProcess): Promise<void> {
  let output = "";
  for await (const chunk of child.stdout as NodeJS.ReadableStream) {
    output += String(chunk);
    if (output.includes("ready\n")) return;
  }
  throw new Error(`the child stopped before it was ready (exit ${child.exitCode})`);
}

describe("SQLite ledger under SIGKILL", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "handout-crash-"));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("loses no share whose link was posted", { timeout: 120_000 }, async () => {
    const ledgerPath = join(folder, "ledger.db");
    const postedLog = join(folder, "posted.log");
    const delays: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, ledgerPath, postedLog], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = once(child, "exit");
      await ready(child);
      const delay = 50 + Math.floor(Math.random() * 250);
      delays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill("SIGKILL");
      const [, signal] = await exited;
      // A child that died on its own (an error) would make this test prove nothing.
      expect(signal, `round ${round}`).toBe("SIGKILL");
    }

    // A line without its newline was cut short by the kill: that post never completed.
    const log = existsSync(postedLog) ? await readFile(postedLog, "utf8") : "";
    const posted = log.split("\n").slice(0, -1);
    expect(posted.length, `kill delays ${delays.join(", ")} ms`).toBeGreaterThan(0);

    const ledger = await openSqliteLedger(ledgerPath);
    try {
      const lost: string[] = [];
      for (const id of posted) {
        const share = await ledger.get(id);
        if (!share || !["pending", "active"].includes(share.state) || share.keys[0] !== `reports/${id}.pdf`) {
          lost.push(id);
        }
      }
      expect(lost, `kill delays ${delays.join(", ")} ms; ${posted.length} posted`).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});
