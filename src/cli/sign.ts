import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openStorage } from "../app/storage.js";
import { loadConfig } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import { assertExpiryAllowed, parseMoment } from "../domain/expiry.js";
import { assertServableKey } from "../domain/object-key.js";
import type { SignedLink } from "../domain/ports.js";
import { createLogger } from "../logger.js";
import { type CliIo, UsageError } from "./io.js";

export const SIGN_USAGE =
  "sign KEY --expires 7d|36h|2027-01-31|2027-01-31T12:00:00Z [--starts WHEN] [--json] [--no-check]";

export async function signCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      expires: { type: "string" },
      starts: { type: "string" },
      json: { type: "boolean", default: false },
      "no-check": { type: "boolean", default: false },
    },
  });
  const [key, ...extra] = positionals;
  if (key === undefined || extra.length > 0)
    throw new UsageError("sign takes exactly one KEY (quote keys with spaces).");
  if (values.expires === undefined) throw new UsageError("sign needs --expires.");
  const now = io.now();
  let expiresAt: Date;
  let startsAt: Date | undefined;
  try {
    assertServableKey(key);
    expiresAt = parseMoment(values.expires, now);
    assertExpiryAllowed(expiresAt, now);
    startsAt = values.starts === undefined ? undefined : parseMoment(values.starts, now);
    if (startsAt && startsAt >= expiresAt) {
      throw new HandoutError("EXPIRY_INVALID", "--starts must come before --expires.");
    }
  } catch (error) {
    if (error instanceof HandoutError) throw new UsageError(error.message);
    throw error;
  }

  const loaded = loadConfig(io.env, { storage: "complete" });
  const config =
    loaded.storage.mode === "local"
      ? {
          ...loaded,
          storage: {
            ...loaded.storage,
            dir: resolve(io.cwd, loaded.storage.dir),
            stateDir: resolve(io.cwd, loaded.storage.stateDir),
          },
        }
      : loaded;
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
  // The embedded default signs with the key `npm start` made, for the folder it serves: a key made
  // here would be one the server does not know, and it would refuse the link.
  const storage = await openStorage(config, logger, { existingOnly: true });
  let link: SignedLink;
  try {
    if (!values["no-check"] && !(await storage.catalog.stat(key))) {
      throw new HandoutError(
        "OBJECT_NOT_FOUND",
        `There is no file ${JSON.stringify(key)} in ${storage.where}: check the key (it is case-sensitive), or pass --no-check to sign it anyway.`,
      );
    }
    link = storage.signer.sign(key, { expiresAt, ...(startsAt ? { startsAt } : {}) });
  } finally {
    storage.close();
  }
  if (values.json) {
    io.out(`${JSON.stringify({ url: link.url, key: link.key, expiresAt: link.expiresAt.toISOString() })}\n`);
  } else {
    io.out(`${link.url}\n`);
    io.err(
      `Expires ${link.expiresAt.toISOString()}${link.startsAt ? `, opens from ${link.startsAt.toISOString()}` : ""}.\n`,
    );
    if (config.storage.mode === "local") {
      const { stateDir, scheme, host } = config.storage;
      io.err(
        `Signed with the key in ${stateDir} (HANDOUT_STATE_DIR). The link opens while Handout runs (npm start) at ${scheme}://${host}/ with that folder.\n`,
      );
    }
  }
  return 0;
}
