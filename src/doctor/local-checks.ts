import { readdir, stat } from "node:fs/promises";
import { scrub } from "../logger.js";
import { readLocalKeyPair } from "../signing/local-keys.js";
import { type Checked, failed, passed } from "./check.js";

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/** The embedded default's folder: there, or to be made with samples on first start. */
export async function checkLocalFolder(dir: string): Promise<Checked<never>> {
  const name = "Local folder";
  try {
    if (!(await stat(dir)).isDirectory()) {
      return failed(name, `${dir} is not a folder`, "Set HANDOUT_LOCAL_DIR to the folder of files to share.");
    }
    const entries = (await readdir(dir)).filter((entry) => !entry.startsWith("."));
    return passed(name, `${dir}, served by Handout itself (${entries.length} visible entries at its top)`);
  } catch (error) {
    if (code(error) === "ENOENT") {
      return passed(
        name,
        `${dir} does not exist yet: Handout makes it, with a few sample files, on first start`,
      );
    }
    return failed(
      name,
      `${dir} cannot be read (${code(error) ?? (error as Error).message})`,
      "Let the user Handout runs as read the folder, or set HANDOUT_LOCAL_DIR to another one.",
    );
  }
}

/** The key pair links are signed and checked with: there, or to be made on first start. */
export async function checkLocalKey(stateDir: string): Promise<Checked<never>> {
  const name = "Signing key";
  try {
    const pair = await readLocalKeyPair(stateDir);
    return pair
      ? passed(name, `the key pair ${pair.keyPairId} in ${stateDir} signs and checks the links`)
      : passed(name, `none in ${stateDir} yet: Handout makes a key pair there on first start`);
  } catch (error) {
    return failed(
      name,
      `the key in ${stateDir} cannot be used: ${scrub((error as Error).message)}`,
      "Put back the private_key.pem that was there, or remove it to have Handout make a new pair (links signed with the old one then stop opening).",
    );
  }
}
