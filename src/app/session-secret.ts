import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The embedded default's session secret, made on first use and kept beside its key pair, so that a
 * restart does not sign everyone out.
 */
export async function ensureSessionSecret(stateDir: string): Promise<string> {
  const path = join(stateDir, "session-secret");
  try {
    const kept = (await readFile(path, "utf8")).trim();
    if (kept.length >= 32) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
