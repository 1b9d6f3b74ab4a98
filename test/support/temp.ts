import { mkdtempSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A new folder `handout-LABEL-…` in the temporary directory, removed when the test file ends. */
export async function tempFolder(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `handout-${label}-`));
  made.push(dir);
  return dir;
}

/** `tempFolder`, for module scope and synchronous helpers. */
export function tempFolderSync(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `handout-${label}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder this test file made; the suite's setup file calls it after the file's tests. */
export async function removeTempFolders(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
