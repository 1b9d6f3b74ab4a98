import { parseArgs } from "node:util";
import { openLedger } from "../app/wiring.js";
import { loadConfig } from "../config/config.js";
import { parseDuration } from "../domain/duration.js";
import type { ShareOpen, ShareRecord } from "../domain/share.js";
import { type CliIo, UsageError } from "./io.js";

export const AUDIT_USAGE = "audit [--since 7d] [--user U0123ABCD] [--format csv|json]";

const PAGE = 1000;

const COLUMNS = [
  "id",
  "created_at",
  "sharer",
  "state",
  "mode",
  "channel",
  "expires_at",
  "files",
  "revoked_by",
  "revoked_at",
  "replaces",
  "replaced_by",
  "access",
  "opens",
] as const;

/** One open in a CSV cell: when, who, which file; one a line, oldest first. */
const openLine = (open: ShareOpen): string => `${open.at.toISOString()} ${open.userId} ${open.key}`;

const jsonOpen = (open: ShareOpen) => ({
  at: open.at.toISOString(),
  user: open.userId,
  file: open.key,
  file_index: open.fileIndex,
  user_agent: open.userAgent,
});

const row = (share: ShareRecord, opens: readonly ShareOpen[]): Record<(typeof COLUMNS)[number], string> => ({
  id: share.id,
  created_at: share.createdAt.toISOString(),
  sharer: share.sharerId,
  state: share.state,
  mode: share.mode,
  channel: share.channelId,
  expires_at: share.expiresAt.toISOString(),
  files: share.keys.join("\n"),
  revoked_by: share.revokedBy ?? "",
  revoked_at: share.revokedAt?.toISOString() ?? "",
  replaces: share.replaces ?? "",
  replaced_by: share.replacedBy ?? "",
  access: share.access,
  opens: opens.map(openLine).join("\n"),
});

/** RFC 4180, and a leading quote for text a spreadsheet would run as a formula. */
const csvCell = (value: string): string => {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** Exports shares, their revocations and extensions, and the opens of members-only links, newest first. */
export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: "string" },
      user: { type: "string" },
      format: { type: "string", default: "csv" },
    },
  });
  if (positionals.length > 0) throw new UsageError("audit takes no arguments besides its options.");
  if (values.format !== "csv" && values.format !== "json") throw new UsageError("--format is csv or json.");
  const sinceSeconds = values.since === undefined ? undefined : parseDuration(values.since);
  if (values.since !== undefined && sinceSeconds === undefined) {
    throw new UsageError("--since takes a duration such as 36h, 7d or 4w.");
  }
  if (values.user !== undefined && !/^[UW][A-Z0-9]{2,}$/.test(values.user)) {
    throw new UsageError("--user takes a Slack member ID such as U0123ABCD.");
  }
  const since = sinceSeconds === undefined ? undefined : new Date(io.now().getTime() - sinceSeconds * 1000);

  const ledger = await openLedger(loadConfig(io.env).ledger);
  const shares: ShareRecord[] = [];
  const opens = new Map<string, ShareOpen[]>();
  try {
    // Pages overlap by one millisecond, so that shares created in the same millisecond as a page's
    // oldest are not skipped; the overlap is dropped by id.
    const seen = new Set<string>();
    let until: Date | undefined;
    for (;;) {
      const page = await ledger.list({ sharerId: values.user, since, until, limit: PAGE });
      const fresh = page.filter((share) => !seen.has(share.id));
      for (const share of fresh) seen.add(share.id);
      shares.push(...fresh);
      const oldest = page.at(-1);
      if (page.length < PAGE || !oldest || fresh.length === 0) break;
      until = new Date(oldest.createdAt.getTime() + 1);
    }
    // Only members-only links go through the gate: other shares have no opens to ask for.
    for (const share of shares) {
      if (share.access === "members") opens.set(share.id, await ledger.listOpens(share.id));
    }
  } finally {
    await ledger.close();
  }

  if (values.format === "json") {
    const rows = shares.map((share) => {
      const shareOpens = opens.get(share.id) ?? [];
      return { ...row(share, shareOpens), opens: shareOpens.map(jsonOpen) };
    });
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    io.out(`${COLUMNS.join(",")}\n`);
    for (const share of shares) {
      const cells = row(share, opens.get(share.id) ?? []);
      io.out(`${COLUMNS.map((column) => csvCell(cells[column])).join(",")}\n`);
    }
  }
  return 0;
}
