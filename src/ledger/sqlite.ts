import { HandoutError } from "../domain/errors.js";
import {
  DEFAULT_LIST_LIMIT,
  isSameShare,
  type ShareLedger,
  type ShareQuery,
  shareIdTaken,
} from "../domain/ledger.js";
import {
  LIVE_STATES,
  type NewShare,
  REPLACEABLE_STATES,
  REVOCABLE_STATES,
  type ShareAccess,
  type ShareMessage,
  type ShareMode,
  type ShareOpen,
  type ShareRecord,
  type ShareState,
  type Transition,
  unknownShare,
} from "../domain/share.js";

type SqlValue = string | number | null;

/** The part of node:sqlite's DatabaseSync and better-sqlite3's Database that the ledger uses. */
interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
}

type SqliteDriver = "node:sqlite" | "better-sqlite3";

type DatabaseConstructor = new (path: string) => SqliteDatabase;

// A variable keeps TypeScript (whose Node 20 types lack node:sqlite) and bundlers from resolving it.
const NODE_SQLITE = "node:sqlite";

/**
 * node:sqlite is built into Node 22.13 and later; better-sqlite3 is a native addon, built for one Node
 * major only, installed as an optional dependency for older Nodes.
 */
export async function loadSqliteDriver(): Promise<{ driver: SqliteDriver; Database: DatabaseConstructor }> {
  try {
    const builtin = (await import(NODE_SQLITE)) as { DatabaseSync: DatabaseConstructor };
    return { driver: "node:sqlite", Database: builtin.DatabaseSync };
  } catch {
    // Older Node: fall through to the addon.
  }
  try {
    const addon = await import("better-sqlite3");
    return { driver: "better-sqlite3", Database: addon.default as unknown as DatabaseConstructor };
  } catch (error) {
    throw new HandoutError(
      "CONFIG_INVALID",
      `No SQLite driver for the share ledger on Node ${process.versions.node}: run Node 22.13 or later, which has one built in, or install better-sqlite3 (npm install better-sqlite3), or keep the ledger in DynamoDB.`,
      { cause: error },
    );
  }
}

/** Each entry moves the schema one version up; `PRAGMA user_version` says how many have run. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE shares (
     id TEXT PRIMARY KEY,
     sharer_id TEXT NOT NULL,
     keys TEXT NOT NULL,
     channel_id TEXT NOT NULL,
     mode TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoked', 'expired', 'failed')),
     message TEXT,
     failure TEXT,
     revoked_by TEXT,
     revoked_at INTEGER,
     replaced_by TEXT,
     replaces TEXT,
     note TEXT,
     title TEXT,
     expiry_notified INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE INDEX shares_by_created ON shares (created_at DESC, id DESC);
   CREATE INDEX shares_by_sharer ON shares (sharer_id, created_at DESC, id DESC);
   CREATE INDEX shares_due ON shares (expires_at, id) WHERE state IN ('pending', 'active');`,
  "ALTER TABLE shares ADD COLUMN announcement_text TEXT;",
  `ALTER TABLE shares ADD COLUMN access TEXT NOT NULL DEFAULT 'link' CHECK (access IN ('link', 'members'));
   ALTER TABLE shares ADD COLUMN notify_opens INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE opens (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     share_id TEXT NOT NULL REFERENCES shares (id),
     file_index INTEGER NOT NULL,
     key TEXT NOT NULL,
     user_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     user_agent TEXT NOT NULL,
     told INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE INDEX opens_by_share ON opens (share_id, at, seq);`,
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

interface ShareRow {
  id: string;
  sharer_id: string;
  keys: string;
  channel_id: string;
  mode: string;
  created_at: number;
  expires_at: number;
  state: string;
  message: string | null;
  failure: string | null;
  revoked_by: string | null;
  revoked_at: number | null;
  replaced_by: string | null;
  replaces: string | null;
  note: string | null;
  title: string | null;
  announcement_text: string | null;
  expiry_notified: number;
  access: string;
  notify_opens: number;
}

interface OpenRow {
  share_id: string;
  file_index: number;
  key: string;
  user_id: string;
  at: number;
  user_agent: string;
}

const toOpen = (row: OpenRow): ShareOpen => ({
  shareId: row.share_id,
  fileIndex: row.file_index,
  key: row.key,
  userId: row.user_id,
  at: new Date(row.at),
  userAgent: row.user_agent,
});

const toRecord = (row: ShareRow): ShareRecord => ({
  id: row.id,
  sharerId: row.sharer_id,
  keys: JSON.parse(row.keys) as string[],
  channelId: row.channel_id,
  mode: row.mode as ShareMode,
  createdAt: new Date(row.created_at),
  expiresAt: new Date(row.expires_at),
  state: row.state as ShareState,
  message: row.message === null ? undefined : (JSON.parse(row.message) as ShareMessage),
  failure: row.failure ?? undefined,
  revokedBy: row.revoked_by ?? undefined,
  revokedAt: row.revoked_at === null ? undefined : new Date(row.revoked_at),
  replacedBy: row.replaced_by ?? undefined,
  replaces: row.replaces ?? undefined,
  note: row.note ?? undefined,
  title: row.title ?? undefined,
  announcementText: row.announcement_text ?? undefined,
  expiryNotified: row.expiry_notified === 1,
  access: row.access as ShareAccess,
  notifyOpens: row.notify_opens === 1,
});

const placeholders = (values: readonly unknown[]): string => values.map(() => "?").join(", ");
const inStates = (states: readonly ShareState[]): string => states.map((s) => `'${s}'`).join(", ");

function migrate(db: SqliteDatabase, path: string): void {
  const version = () => (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  const newerSchema = (found: number) =>
    new HandoutError(
      "CONFIG_INVALID",
      `The share ledger ${path} was written by a newer Handout (schema ${found}, this one knows ${SQLITE_MIGRATIONS.length}): run that version, or point the ledger at another file.`,
    );
  if (version() > SQLITE_MIGRATIONS.length) throw newerSchema(version());
  if (version() === SQLITE_MIGRATIONS.length) return;
  // IMMEDIATE takes the write lock first, so two processes opening a new file migrate it once.
  db.exec("BEGIN IMMEDIATE");
  try {
    // A newer Handout may have moved the file on while this one waited for the lock.
    if (version() > SQLITE_MIGRATIONS.length) throw newerSchema(version());
    for (let next = version(); next < SQLITE_MIGRATIONS.length; next += 1) {
      db.exec(SQLITE_MIGRATIONS[next] as string);
      db.exec(`PRAGMA user_version = ${next + 1}`);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

export interface SqliteShareLedger extends ShareLedger {
  /** Which driver opened the file, for the start-up log. */
  readonly driver: SqliteDriver;
  readonly path: string;
}

/**
 * The embedded ledger: one SQLite file, created on first use. WAL with `synchronous=FULL`: a change
 * is on disk when the call returns, so a share recorded before its link was posted survives a crash or
 * power loss. Several processes may open the same file (the app and the CLI); state changes are single
 * conditional UPDATEs, atomic across them.
 */
export async function openSqliteLedger(path: string): Promise<SqliteShareLedger> {
  const { driver, Database } = await loadSqliteDriver();
  let db: SqliteDatabase;
  try {
    db = new Database(path);
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    migrate(db, path);
  } catch (error) {
    if (error instanceof HandoutError) throw error;
    throw new HandoutError(
      "CONFIG_INVALID",
      `Could not open the share ledger ${path} (${(error as Error).message}): check that its folder exists and that Handout may write there, or set HANDOUT_LEDGER=sqlite:PATH to another file.`,
      { cause: error },
    );
  }

  const columns =
    "id, sharer_id, keys, channel_id, mode, created_at, expires_at, state, note, title, announcement_text, replaces, access, notify_opens";
  const insert = db.prepare(
    `INSERT INTO shares (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const insertOpen = db.prepare(
    "INSERT INTO opens (share_id, file_index, key, user_id, at, user_agent) SELECT id, ?, ?, ?, ?, ? FROM shares WHERE id = ?",
  );
  const opensOf = db.prepare("SELECT * FROM opens WHERE share_id = ? ORDER BY at, seq");
  // One statement both picks and marks, so two processes never claim the same open.
  const claimOpens = db.prepare(
    "UPDATE opens SET told = 1 WHERE share_id = ? AND told = 0 AND at <= ? RETURNING *",
  );
  const select = db.prepare("SELECT * FROM shares WHERE id = ?");
  const activate = db.prepare(
    "UPDATE shares SET state = 'active', message = ? WHERE id = ? AND state IN ('pending', 'failed')",
  );
  const keepMessage = db.prepare("UPDATE shares SET message = ? WHERE id = ?");
  const fail = db.prepare(
    "UPDATE shares SET state = 'failed', failure = ? WHERE id = ? AND state = 'pending'",
  );
  const revoke = db.prepare(
    `UPDATE shares SET state = 'revoked', revoked_by = ?, revoked_at = ? WHERE id = ? AND state IN (${inStates(REVOCABLE_STATES)})`,
  );
  const expire = db.prepare(
    `UPDATE shares SET state = 'expired' WHERE id = ? AND state IN (${inStates(LIVE_STATES)})`,
  );
  const replace = db.prepare(
    `UPDATE shares SET replaced_by = ? WHERE id = ? AND state IN (${inStates(REPLACEABLE_STATES)}) AND (replaced_by IS NULL OR replaced_by = ?)`,
  );
  const unreplace = db.prepare("UPDATE shares SET replaced_by = NULL WHERE id = ? AND replaced_by = ?");
  const notify = db.prepare(
    "UPDATE shares SET expiry_notified = 1 WHERE id = ? AND state = 'active' AND expiry_notified = 0",
  );
  const due = db.prepare(
    `SELECT * FROM shares WHERE state IN (${inStates(LIVE_STATES)}) AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
  );
  const reminders = db.prepare(
    "SELECT * FROM shares WHERE state = 'active' AND mode = 'announce' AND expiry_notified = 0 AND replaced_by IS NULL AND expires_at <= ? ORDER BY expires_at, id LIMIT ?",
  );
  const queries = new Map<string, SqliteStatement>();
  let open = true;

  const get = (id: string): ShareRecord | undefined => {
    const row = select.get(id) as ShareRow | undefined;
    return row && toRecord(row);
  };
  const transition = (id: string, changes: number | bigint): Transition => {
    const share = get(id);
    return Number(changes) === 1 && share ? { changed: true, share } : { changed: false, share };
  };

  return {
    driver,
    path,
    async record(share: NewShare) {
      const { changes } = insert.run(
        share.id,
        share.sharerId,
        JSON.stringify(share.keys),
        share.channelId,
        share.mode,
        share.createdAt.getTime(),
        share.expiresAt.getTime(),
        share.note ?? null,
        share.title ?? null,
        share.announcementText ?? null,
        share.replaces ?? null,
        share.access ?? "link",
        share.notifyOpens === true ? 1 : 0,
      );
      const stored = get(share.id) as ShareRecord;
      if (Number(changes) === 0 && !isSameShare(stored, share)) throw shareIdTaken(share.id);
      return stored;
    },
    async posted(id, message) {
      const json = JSON.stringify(message);
      const { changes } = activate.run(json, id);
      if (Number(changes) === 0) {
        keepMessage.run(json, id);
        return { changed: false, share: get(id) };
      }
      return transition(id, changes);
    },
    async failed(id, reason) {
      return transition(id, fail.run(reason, id).changes);
    },
    async get(id) {
      return get(id);
    },
    async revoke(id, by, at) {
      return transition(id, revoke.run(by, at.getTime(), id).changes);
    },
    async markExpired(id) {
      return transition(id, expire.run(id).changes);
    },
    async markReplaced(id, newId) {
      return transition(id, replace.run(newId, id, newId).changes);
    },
    async unmarkReplaced(id, newId) {
      return transition(id, unreplace.run(id, newId).changes);
    },
    async markExpiryNotified(id) {
      return transition(id, notify.run(id).changes);
    },
    async list(query: ShareQuery = {}) {
      const limit = query.limit ?? DEFAULT_LIST_LIMIT;
      // SQLite reads a negative LIMIT as "no limit".
      if (limit <= 0) return [];
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (query.sharerId !== undefined) {
        where.push("sharer_id = ?");
        params.push(query.sharerId);
      }
      if (query.states !== undefined) {
        if (query.states.length === 0) return [];
        where.push(`state IN (${placeholders(query.states)})`);
        params.push(...query.states);
      }
      if (query.since !== undefined) {
        where.push("created_at >= ?");
        params.push(query.since.getTime());
      }
      if (query.until !== undefined) {
        where.push("created_at < ?");
        params.push(query.until.getTime());
      }
      const sql = `SELECT * FROM shares ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`;
      let statement = queries.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        queries.set(sql, statement);
      }
      return (statement.all(...params, limit) as ShareRow[]).map(toRecord);
    },
    async dueForExpiry(before, limit = DEFAULT_LIST_LIMIT) {
      if (limit <= 0) return [];
      return (due.all(before.getTime(), limit) as ShareRow[]).map(toRecord);
    },
    async dueForReminder(before, limit = DEFAULT_LIST_LIMIT) {
      if (limit <= 0) return [];
      return (reminders.all(before.getTime(), limit) as ShareRow[]).map(toRecord);
    },
    async recordOpen(o: ShareOpen) {
      const { changes } = insertOpen.run(
        o.fileIndex,
        o.key,
        o.userId,
        o.at.getTime(),
        o.userAgent,
        o.shareId,
      );
      if (Number(changes) === 0) throw unknownShare();
    },
    async listOpens(shareId) {
      return (opensOf.all(shareId) as OpenRow[]).map(toOpen);
    },
    async claimOpensToNotify(shareId, upTo) {
      const rows = claimOpens.all(shareId, upTo.getTime()) as (OpenRow & { seq: number })[];
      return rows.sort((a, b) => a.at - b.at || a.seq - b.seq).map(toOpen);
    },
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
