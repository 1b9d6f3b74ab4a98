import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openStorage } from "../app/storage.js";
import { createCatalog, startSigner } from "../app/wiring.js";
import { loadConfig } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import { assertExpiryAllowed, parseMoment } from "../domain/expiry.js";
import { assertServableKey } from "../domain/object-key.js";
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

  const loaded = loadConfig(io.env, values["no-check"] ? ["signing"] : ["signing", "bucket"]);
  const config = loaded.local
    ? {
        ...loaded,
        local: {
          ...loaded.local,
          dir: resolve(io.cwd, loaded.local.dir),
          stateDir: resolve(io.cwd, loaded.local.stateDir),
        },
      }
    : loaded;
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
  // The embedded default signs with the key `npm start` made, for the folder it serves: a key made
  // here would be one the server does not know, and it would refuse the link.
  const storage = config.local ? await openStorage(config, logger, { existingOnly: true }) : undefined;
  if (!values["no-check"]) {
    const catalog = storage?.catalog ?? createCatalog(config.bucket as NonNullable<typeof config.bucket>);
    if (!(await catalog.stat(key))) {
      throw new HandoutError(
        "OBJECT_NOT_FOUND",
        `There is no file ${JSON.stringify(key)} in ${config.local ? `the folder ${config.local.dir}` : `the bucket ${config.bucket?.name}`}: check the key (it is case-sensitive), or pass --no-check to sign it anyway.`,
      );
    }
  }
  const signer =
    storage?.signer ??
    (await startSigner(config.signing as NonNullable<typeof config.signing>, logger)).signer;
  const link = signer.sign(key, { expiresAt, ...(startsAt ? { startsAt } : {}) });
  if (values.json) {
    io.out(`${JSON.stringify({ url: link.url, key: link.key, expiresAt: link.expiresAt.toISOString() })}\n`);
  } else {
    io.out(`${link.url}\n`);
    io.err(
      `Expires ${link.expiresAt.toISOString()}${link.startsAt ? `, opens from ${link.startsAt.toISOString()}` : ""}.\n`,
    );
    if (config.local)
      io.err(
        `Signed with the key in ${config.local.stateDir} (HANDOUT_STATE_DIR). The link opens while Handout runs (npm start) at ${config.local.scheme}://${config.local.host}/ with that folder.\n`,
      );
  }
  return 0;
}
