import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isHandoutError } from "../../src/domain/errors.js";
import type { ShareLedger } from "../../src/domain/ledger.js";
import type { NewShare, ShareMessage, ShareOpen } from "../../src/domain/share.js";
import { newShareId } from "../../src/domain/share-id.js";
import { createLedgerTable, dynamoDbLedger } from "../../src/ledger/dynamodb.js";
import { loadSqliteDriver, openSqliteLedger, SQLITE_MIGRATIONS } from "../../src/ledger/sqlite.js";

/** One place that keeps shares: `open` gives a new ledger object over the same data each time. */
interface LedgerStorage {
  open(): Promise<ShareLedger>;
  dispose(): Promise<void>;
}

const T0 = new Date("2030-01-01T00:00:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const DAY = 24 * 60;

const aShare = (overrides: Partial<NewShare> = {}): NewShare => ({
  id: newShareId(),
  sharerId: "U1",
  keys: ["reports/q1.pdf", "reports/q1 notes.txt"],
  channelId: "C1",
  mode: "post",
  createdAt: T0,
  expiresAt: minutes(DAY),
  ...overrides,
});

const aMessage = (overrides: Partial<ShareMessage> = {}): ShareMessage => ({
  channelId: "C1",
  ts: "1893456000.000100",
  via: "message",
  pinned: false,
  ...overrides,
});

/** The behaviour every ledger store must show, whatever keeps the data. */
function shareLedgerContract(name: string, newStorage: () => Promise<LedgerStorage>): void {
  describe(`${name} share ledger`, () => {
    let storage: LedgerStorage;
    let ledger: ShareLedger;

    beforeEach(async () => {
      storage = await newStorage();
      ledger = await storage.open();
    });
    afterEach(async () => {
      await ledger.close();
      await storage.dispose();
    });

    /** Records `share` and posts it. */
    const active = async (overrides: Partial<NewShare> = {}) => {
      const share = aShare(overrides);
      await ledger.record(share);
      await ledger.posted(share.id, aMessage());
      return share;
    };

    describe("record and get", () => {
      it("records a share as pending, with everything it was given", async () => {
        const share = aShare({
          note: "For the board",
          title: "Q1",
          announcementText: "Figures for Thursday's board meeting.",
          mode: "announce",
          replaces: newShareId(),
        });
        const recorded = await ledger.record(share);
        const expected = {
          ...share,
          state: "pending",
          expiryNotified: false,
          access: "link",
          notifyOpens: false,
        };
        expect(recorded).toEqual(expected);
        expect(await ledger.get(share.id)).toEqual(expected);
        expect((await ledger.get(share.id))?.message).toBeUndefined();
      });

      it("keeps times to the millisecond and keys with any characters", async () => {
        const share = aShare({
          createdAt: new Date("2030-01-01T00:00:00.123Z"),
          expiresAt: new Date("2030-01-02T03:04:05.678Z"),
          keys: ['dossiers/Ünïcødé 100% "quoted" #1?.pdf', "a/b/c.txt"],
        });
        await ledger.record(share);
        const stored = await ledger.get(share.id);
        expect(stored?.createdAt.toISOString()).toBe("2030-01-01T00:00:00.123Z");
        expect(stored?.expiresAt.toISOString()).toBe("2030-01-02T03:04:05.678Z");
        expect(stored?.keys).toEqual(share.keys);
      });

      it("answers undefined for an unknown id", async () => {
        expect(await ledger.get(newShareId())).toBeUndefined();
      });

      it("treats recording the same share twice as one record (a retried write)", async () => {
        const share = aShare();
        await ledger.record(share);
        await ledger.posted(share.id, aMessage());
        const again = await ledger.record(share);
        expect(again.state).toBe("active");
        expect(await ledger.list()).toHaveLength(1);
      });

      it("refuses a different share under an id already taken", async () => {
        const share = aShare();
        await ledger.record(share);
        const error = await ledger.record({ ...share, keys: ["other.pdf"] }).catch((e: unknown) => e);
        expect(isHandoutError(error, "INPUT_INVALID")).toBe(true);
        expect((await ledger.get(share.id))?.keys).toEqual(share.keys);
      });
    });

    describe("posted and failed", () => {
      it("makes a pending share active and keeps where it was posted", async () => {
        const share = aShare();
        await ledger.record(share);
        const message = aMessage({ via: "response_url", ts: undefined, channelId: "C9", pinned: true });
        const result = await ledger.posted(share.id, message);
        expect(result.changed).toBe(true);
        expect(result.share?.state).toBe("active");
        expect((await ledger.get(share.id))?.message).toEqual(message);
      });

      it("keeps every message of a share posted as several", async () => {
        const share = aShare();
        await ledger.record(share);
        const message = aMessage({ followUps: ["1893456000.000200", "1893456000.000300"] });
        await ledger.posted(share.id, message);
        expect((await ledger.get(share.id))?.message).toEqual(message);
      });

      it("marks a pending share failed with the reason", async () => {
        const share = aShare();
        await ledger.record(share);
        const result = await ledger.failed(share.id, "not_in_channel");
        expect(result).toMatchObject({
          changed: true,
          share: { state: "failed", failure: "not_in_channel" },
        });
      });

      it("does not mark an active share failed", async () => {
        const share = await active();
        const result = await ledger.failed(share.id, "late error");
        expect(result.changed).toBe(false);
        expect(result.share?.state).toBe("active");
        expect(result.share?.failure).toBeUndefined();
      });

      it("makes a failed share active when its message turns out to have been posted", async () => {
        const share = aShare();
        await ledger.record(share);
        await ledger.failed(share.id, "timeout");
        const result = await ledger.posted(share.id, aMessage());
        expect(result).toMatchObject({ changed: true, share: { state: "active" } });
        // Live again, so the scheduler sees it.
        expect((await ledger.dueForExpiry(minutes(2 * DAY))).map((s) => s.id)).toEqual([share.id]);
      });

      it("does not bring a share revoked while it was being posted back to life, but keeps its message", async () => {
        const share = aShare();
        await ledger.record(share);
        await ledger.revoke(share.id, "U2", minutes(1));
        const result = await ledger.posted(share.id, aMessage({ ts: "1893456000.000200" }));
        expect(result.changed).toBe(false);
        expect(result.share).toMatchObject({ state: "revoked", revokedBy: "U2" });
        expect(result.share?.message?.ts).toBe("1893456000.000200");
      });

      it("answers an unknown id with no share", async () => {
        expect(await ledger.posted(newShareId(), aMessage())).toEqual({ changed: false, share: undefined });
        expect(await ledger.failed(newShareId(), "x")).toEqual({ changed: false, share: undefined });
      });
    });

    describe("revoke", () => {
      it("revokes an active share, saying who and when", async () => {
        const share = await active();
        const result = await ledger.revoke(share.id, "U2", minutes(5));
        expect(result.changed).toBe(true);
        expect(result.share).toMatchObject({ state: "revoked", revokedBy: "U2", revokedAt: minutes(5) });
        expect(result.share?.message).toEqual(aMessage());
      });

      it("revokes a pending share and a failed one", async () => {
        const pending = aShare();
        await ledger.record(pending);
        const failed = aShare();
        await ledger.record(failed);
        await ledger.failed(failed.id, "timeout");
        expect((await ledger.revoke(pending.id, "U2", minutes(1))).changed).toBe(true);
        expect((await ledger.revoke(failed.id, "U2", minutes(1))).changed).toBe(true);
      });

      it("refuses to revoke twice, and keeps the first revoker", async () => {
        const share = await active();
        await ledger.revoke(share.id, "U2", minutes(5));
        const again = await ledger.revoke(share.id, "U3", minutes(6));
        expect(again.changed).toBe(false);
        expect(again.share).toMatchObject({ state: "revoked", revokedBy: "U2", revokedAt: minutes(5) });
      });

      it("refuses to revoke an expired share", async () => {
        const share = await active();
        await ledger.markExpired(share.id);
        const result = await ledger.revoke(share.id, "U2", minutes(5));
        expect(result.changed).toBe(false);
        expect(result.share?.state).toBe("expired");
        expect(result.share?.revokedBy).toBeUndefined();
      });

      it("answers an unknown id with no share", async () => {
        expect(await ledger.revoke(newShareId(), "U2", T0)).toEqual({ changed: false, share: undefined });
      });

      it("lets exactly one of several simultaneous revokes win", async () => {
        const share = await active();
        const results = await Promise.all(
          ["U2", "U3", "U4", "U5"].map((by) => ledger.revoke(share.id, by, minutes(1))),
        );
        const winners = results.filter((r) => r.changed);
        expect(winners).toHaveLength(1);
        expect((await ledger.get(share.id))?.revokedBy).toBe(winners[0]?.share?.revokedBy);
      });
    });

    describe("markExpired, markReplaced, markExpiryNotified", () => {
      it("expires a live share once", async () => {
        const share = await active();
        expect(await ledger.markExpired(share.id)).toMatchObject({
          changed: true,
          share: { state: "expired" },
        });
        expect((await ledger.markExpired(share.id)).changed).toBe(false);
      });

      it("does not expire a revoked share", async () => {
        const share = await active();
        await ledger.revoke(share.id, "U2", minutes(1));
        const result = await ledger.markExpired(share.id);
        expect(result.changed).toBe(false);
        expect(result.share?.state).toBe("revoked");
      });

      it("links a share to the one that extended it, once", async () => {
        const old = await active();
        const extension = await active({ replaces: old.id, createdAt: minutes(10) });
        expect(await ledger.markReplaced(old.id, extension.id)).toMatchObject({
          changed: true,
          share: { replacedBy: extension.id, state: "active" },
        });
        expect((await ledger.get(extension.id))?.replaces).toBe(old.id);
        // Repeating the same link is harmless; a second, different extension is refused.
        expect((await ledger.markReplaced(old.id, extension.id)).changed).toBe(true);
        const rival = await ledger.markReplaced(old.id, newShareId());
        expect(rival.changed).toBe(false);
        expect(rival.share?.replacedBy).toBe(extension.id);
      });

      it("takes back an extension's claim only for the extension that made it", async () => {
        const old = await active();
        const claimed = newShareId();
        expect((await ledger.markReplaced(old.id, claimed)).changed).toBe(true);
        const other = await ledger.unmarkReplaced(old.id, newShareId());
        expect(other.changed).toBe(false);
        expect(other.share?.replacedBy).toBe(claimed);
        const taken = await ledger.unmarkReplaced(old.id, claimed);
        expect(taken.changed).toBe(true);
        expect(taken.share?.replacedBy).toBeUndefined();
        expect((await ledger.unmarkReplaced(old.id, claimed)).changed).toBe(false);
        // Free again: the next extension may claim it.
        expect((await ledger.markReplaced(old.id, newShareId())).changed).toBe(true);
        expect((await ledger.unmarkReplaced("missing-share-id-0000", claimed)).share).toBeUndefined();
      });

      it("extends an expired share but not a revoked one", async () => {
        const expired = await active();
        await ledger.markExpired(expired.id);
        expect((await ledger.markReplaced(expired.id, newShareId())).changed).toBe(true);
        const revoked = await active();
        await ledger.revoke(revoked.id, "U2", minutes(1));
        const refused = await ledger.markReplaced(revoked.id, newShareId());
        expect(refused.changed).toBe(false);
        expect(refused.share?.replacedBy).toBeUndefined();
      });

      it("claims an active share's expiry notice only once", async () => {
        const share = await active();
        expect(await ledger.markExpiryNotified(share.id)).toMatchObject({
          changed: true,
          share: { expiryNotified: true },
        });
        expect((await ledger.markExpiryNotified(share.id)).changed).toBe(false);
        const pending = aShare();
        await ledger.record(pending);
        expect((await ledger.markExpiryNotified(pending.id)).changed).toBe(false);
      });
    });

    describe("list", () => {
      /** Five shares a minute apart, by U1 and U2 in turn, in assorted states. */
      const fixture = async () => {
        const shares = [];
        for (let i = 0; i < 5; i += 1) {
          shares.push(await active({ sharerId: i % 2 === 0 ? "U1" : "U2", createdAt: minutes(i) }));
        }
        await ledger.revoke(shares[1]?.id as string, "U9", minutes(10));
        await ledger.markExpired(shares[2]?.id as string);
        return shares.map((s) => s.id);
      };

      it("lists everyone's shares newest first", async () => {
        const ids = await fixture();
        expect((await ledger.list()).map((s) => s.id)).toEqual([...ids].reverse());
      });

      it("orders shares created at the same moment by id, greatest first", async () => {
        const ids = [];
        for (let i = 0; i < 4; i += 1) ids.push((await active({ createdAt: T0 })).id);
        expect((await ledger.list()).map((s) => s.id)).toEqual([...ids].sort().reverse());
      });

      it("filters by sharer, by state, and by both", async () => {
        const ids = await fixture();
        expect((await ledger.list({ sharerId: "U1" })).map((s) => s.id)).toEqual([ids[4], ids[2], ids[0]]);
        expect((await ledger.list({ states: ["active"] })).map((s) => s.id)).toEqual([
          ids[4],
          ids[3],
          ids[0],
        ]);
        expect((await ledger.list({ states: ["revoked", "expired"] })).map((s) => s.id)).toEqual([
          ids[2],
          ids[1],
        ]);
        expect((await ledger.list({ sharerId: "U2", states: ["active"] })).map((s) => s.id)).toEqual([
          ids[3],
        ]);
        expect(await ledger.list({ states: [] })).toEqual([]);
        expect(await ledger.list({ sharerId: "U404" })).toEqual([]);
      });

      it("takes since as inclusive and until as exclusive", async () => {
        const ids = await fixture();
        expect((await ledger.list({ since: minutes(1), until: minutes(3) })).map((s) => s.id)).toEqual([
          ids[2],
          ids[1],
        ]);
        expect((await ledger.list({ since: minutes(3) })).map((s) => s.id)).toEqual([ids[4], ids[3]]);
        expect((await ledger.list({ until: minutes(1) })).map((s) => s.id)).toEqual([ids[0]]);
        expect((await ledger.list({ sharerId: "U1", until: minutes(4) })).map((s) => s.id)).toEqual([
          ids[2],
          ids[0],
        ]);
        expect(await ledger.list({ since: minutes(3), until: minutes(3) })).toEqual([]);
      });

      it("stops at the limit, also when a filter skips most shares", async () => {
        const ids = await fixture();
        for (let i = 0; i < 8; i += 1) {
          const share = await active({ sharerId: "U3", createdAt: minutes(20 + i) });
          await ledger.revoke(share.id, "U9", minutes(40));
        }
        expect((await ledger.list({ limit: 2 })).map((s) => s.state)).toEqual(["revoked", "revoked"]);
        expect(await ledger.list({ limit: 0 })).toEqual([]);
        expect(await ledger.list({ limit: -1 })).toEqual([]);
        expect((await ledger.list({ states: ["active"], limit: 2 })).map((s) => s.id)).toEqual([
          ids[4],
          ids[3],
        ]);
        expect((await ledger.list({ states: ["active"], limit: 10 })).map((s) => s.id)).toEqual([
          ids[4],
          ids[3],
          ids[0],
        ]);
      });

      it("pages with until: the oldest createdAt of one page fetches the next", async () => {
        const ids = await fixture();
        const first = await ledger.list({ limit: 2 });
        const second = await ledger.list({ limit: 2, until: first.at(-1)?.createdAt });
        expect([...first, ...second].map((s) => s.id)).toEqual([ids[4], ids[3], ids[2], ids[1]]);
      });
    });

    describe("dueForReminder", () => {
      it("answers active announcements, not extended or reminded, expiring by the time, soonest first", async () => {
        const announce = (expires: number) =>
          active({ mode: "announce", title: "Q1", expiresAt: minutes(expires) });
        const later = await announce(300);
        const soon = await announce(100);
        const due = await announce(200);
        await active({ expiresAt: minutes(50) }); // a plain post
        const reminded = await announce(60);
        await ledger.markExpiryNotified(reminded.id);
        const extended = await announce(70);
        await ledger.markReplaced(extended.id, newShareId());
        const revoked = await announce(80);
        await ledger.revoke(revoked.id, "U2", minutes(1));
        await ledger.record(aShare({ mode: "announce", expiresAt: minutes(90) })); // still pending

        const answer = await ledger.dueForReminder(minutes(200));
        expect(answer.map((s) => s.id)).toEqual([soon.id, due.id]);
        expect(answer[0]).toMatchObject({
          mode: "announce",
          title: "Q1",
          state: "active",
          expiryNotified: false,
        });
        expect((await ledger.dueForReminder(minutes(400), 2)).map((s) => s.id)).toEqual([soon.id, due.id]);
        expect((await ledger.dueForReminder(minutes(400))).map((s) => s.id)).toContain(later.id);
        expect(await ledger.dueForReminder(minutes(400), 0)).toEqual([]);
      });
    });

    describe("dueForExpiry", () => {
      it("answers live shares expiring at or before the time, soonest first", async () => {
        const late = await active({ expiresAt: minutes(300) });
        const soon = await active({ expiresAt: minutes(100) });
        const exactlyDue = await active({ expiresAt: minutes(200) });
        const pending = aShare({ expiresAt: minutes(150) });
        await ledger.record(pending);
        const due = await ledger.dueForExpiry(minutes(200));
        expect(due.map((s) => s.id)).toEqual([soon.id, pending.id, exactlyDue.id]);
        expect(due.map((s) => s.id)).not.toContain(late.id);
      });

      it("leaves out revoked, expired and failed shares", async () => {
        const revoked = await active({ expiresAt: minutes(10) });
        await ledger.revoke(revoked.id, "U2", minutes(1));
        const expired = await active({ expiresAt: minutes(20) });
        await ledger.markExpired(expired.id);
        const failed = aShare({ expiresAt: minutes(30) });
        await ledger.record(failed);
        await ledger.failed(failed.id, "channel_not_found");
        const live = await active({ expiresAt: minutes(40) });
        expect((await ledger.dueForExpiry(minutes(1000))).map((s) => s.id)).toEqual([live.id]);
      });

      it("stops at the limit", async () => {
        const ids = [];
        for (let i = 1; i <= 5; i += 1) ids.push((await active({ expiresAt: minutes(i) })).id);
        expect((await ledger.dueForExpiry(minutes(10), 3)).map((s) => s.id)).toEqual(ids.slice(0, 3));
        expect(await ledger.dueForExpiry(minutes(10), -1)).toEqual([]);
      });

      it("hands each due share to exactly one of two schedulers", async () => {
        for (let i = 1; i <= 4; i += 1) await active({ expiresAt: minutes(i) });
        const other = await storage.open();
        const claims = async (l: ShareLedger) => {
          const claimed = [];
          for (const share of await l.dueForExpiry(minutes(10))) {
            if ((await l.markExpired(share.id)).changed) claimed.push(share.id);
          }
          return claimed;
        };
        const [mine, theirs] = await Promise.all([claims(ledger), claims(other)]);
        await other.close();
        expect([...mine, ...theirs].sort()).toHaveLength(4);
        expect(new Set([...mine, ...theirs]).size).toBe(4);
      });
    });

    describe("access and opens", () => {
      const anOpen = (shareId: string, overrides: Partial<ShareOpen> = {}): ShareOpen => ({
        shareId,
        fileIndex: 0,
        key: "reports/q1.pdf",
        userId: "U2",
        at: minutes(5),
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131",
        ...overrides,
      });

      it("reads a share recorded without an access choice as open to anyone with the link", async () => {
        const share = await active();
        expect(await ledger.get(share.id)).toMatchObject({ access: "link", notifyOpens: false });
      });

      it("keeps a members-only share's access and its sharer's wish to be told of opens", async () => {
        const share = await active({ access: "members", notifyOpens: true });
        expect(await ledger.get(share.id)).toMatchObject({ access: "members", notifyOpens: true });
      });

      it("refuses the same id recorded again with another access", async () => {
        const share = aShare({ access: "members" });
        await ledger.record(share);
        await expect(ledger.record({ ...share, access: "link" })).rejects.toThrow(/already recorded/);
      });

      it("lists a share's opens oldest first, and only that share's", async () => {
        const share = await active({ access: "members" });
        const other = await active({ access: "members" });
        const late = anOpen(share.id, {
          at: minutes(9),
          userId: "U3",
          fileIndex: 1,
          key: "reports/q1 notes.txt",
        });
        const early = anOpen(share.id, { at: minutes(2) });
        await ledger.recordOpen(late);
        await ledger.recordOpen(early);
        await ledger.recordOpen(anOpen(other.id));
        expect(await ledger.listOpens(share.id)).toEqual([early, late]);
        expect(await ledger.listOpens(newShareId())).toEqual([]);
      });

      it("refuses an open of a share it has no record of, and records nothing", async () => {
        const missing = newShareId();
        const error = await ledger.recordOpen(anOpen(missing)).catch((e: unknown) => e);
        expect(isHandoutError(error, "INPUT_INVALID")).toBe(true);
        expect(await ledger.listOpens(missing)).toEqual([]);
      });

      it("hands the opens up to a time to the teller once, and keeps later ones for later", async () => {
        const share = await active({ access: "members", notifyOpens: true });
        const first = anOpen(share.id, { at: minutes(1) });
        const second = anOpen(share.id, { at: minutes(3), userId: "U3" });
        const third = anOpen(share.id, { at: minutes(8), userId: "U4" });
        for (const o of [first, second, third]) await ledger.recordOpen(o);
        expect(await ledger.claimOpensToNotify(share.id, minutes(3))).toEqual([first, second]);
        expect(await ledger.claimOpensToNotify(share.id, minutes(3))).toEqual([]);
        expect(await ledger.claimOpensToNotify(share.id, minutes(10))).toEqual([third]);
        expect(await ledger.listOpens(share.id)).toEqual([first, second, third]);
      });

      it("gives each open to one of two replicas telling at once", async () => {
        const share = await active({ access: "members", notifyOpens: true });
        for (let i = 0; i < 6; i += 1)
          await ledger.recordOpen(anOpen(share.id, { at: minutes(i), userId: `U${i}` }));
        const other = await storage.open();
        const [mine, theirs] = await Promise.all([
          ledger.claimOpensToNotify(share.id, minutes(10)),
          other.claimOpensToNotify(share.id, minutes(10)),
        ]);
        await other.close();
        const told = [...mine, ...theirs].map((o) => o.userId).sort();
        expect(told).toEqual(["U0", "U1", "U2", "U3", "U4", "U5"]);
      });

      it("keeps opens across a reopen", async () => {
        const share = await active({ access: "members" });
        const o = anOpen(share.id);
        await ledger.recordOpen(o);
        await ledger.close();
        ledger = await storage.open();
        expect(await ledger.listOpens(share.id)).toEqual([o]);
      });
    });

    it("keeps everything across a reopen", async () => {
      const posted = await active({ note: "n", title: "t" });
      const revoked = await active({ createdAt: minutes(1) });
      await ledger.revoke(revoked.id, "U2", minutes(2));
      const before = await ledger.list();
      await ledger.close();
      ledger = await storage.open();
      expect(await ledger.list()).toEqual(before);
      expect(await ledger.get(posted.id)).toMatchObject({ state: "active", note: "n", message: aMessage() });
      expect(await ledger.get(revoked.id)).toMatchObject({ state: "revoked", revokedAt: minutes(2) });
    });
  });
}

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "handout-ledger-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

shareLedgerContract("SQLite", async () => {
  const path = join(folder, `${randomUUID()}.db`);
  return {
    open: () => openSqliteLedger(path),
    dispose: async () => {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) await rm(file, { force: true });
    },
  };
});

describe("SQLite share ledger file", () => {
  it("uses node:sqlite where Node has it unflagged, and better-sqlite3 before that", async () => {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    const builtin = major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
    const ledger = await openSqliteLedger(join(folder, "driver.db"));
    expect(ledger.driver).toBe(builtin ? "node:sqlite" : "better-sqlite3");
    await ledger.close();
  });

  it("is kept in WAL mode", async () => {
    const path = join(folder, "wal.db");
    const ledger = await openSqliteLedger(path);
    await ledger.record(aShare());
    await ledger.close();
    // Bytes 18 and 19 of the database header are the file format versions: 2 means WAL.
    const header = await readFile(path);
    expect([header[18], header[19]]).toEqual([2, 2]);
  });

  it("moves a file written by the first schema up, keeping its shares", async () => {
    const path = join(folder, "first-schema.db");
    const { Database } = await loadSqliteDriver();
    const db = new Database(path);
    db.exec(SQLITE_MIGRATIONS[0] as string);
    db.exec("PRAGMA user_version = 1");
    db.prepare(
      "INSERT INTO shares (id, sharer_id, keys, channel_id, mode, created_at, expires_at, state, title) VALUES (?, 'U1', '[\"a.pdf\"]', 'C1', 'announce', 1, 2, 'active', 'Old')",
    ).run("old-share-id-0000000000");
    db.close();

    const ledger = await openSqliteLedger(path);
    try {
      expect(await ledger.get("old-share-id-0000000000")).toMatchObject({ title: "Old", state: "active" });
      expect((await ledger.get("old-share-id-0000000000"))?.announcementText).toBeUndefined();
      expect(await ledger.get("old-share-id-0000000000")).toMatchObject({
        access: "link",
        notifyOpens: false,
      });
      expect(await ledger.listOpens("old-share-id-0000000000")).toEqual([]);
      const share = aShare({ mode: "announce", title: "New", announcementText: "Read this." });
      await ledger.record(share);
      expect((await ledger.get(share.id))?.announcementText).toBe("Read this.");
    } finally {
      await ledger.close();
    }
    const header = await readFile(path);
    expect(header.readUInt32BE(60)).toBe(SQLITE_MIGRATIONS.length);
  });

  it("refuses a file written by a newer schema, and says what to do", async () => {
    const path = join(folder, "newer.db");
    await (await openSqliteLedger(path)).close();
    // The user_version pragma lives at byte 60 of the header, big-endian.
    const file = await readFile(path);
    file.writeUInt32BE(99, 60);
    await writeFile(path, file);
    const error = await openSqliteLedger(path).catch((e: unknown) => e);
    expect(isHandoutError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/newer Handout/);
  });

  it("names the path when the file cannot be created", async () => {
    const error = await openSqliteLedger(join(folder, "missing", "folder", "x.db")).catch((e: unknown) => e);
    expect(isHandoutError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/missing\/folder\/x\.db.*folder exists/);
  });
});

describe("DynamoDB", () => {
  let server: Server;
  let client: DynamoDBClient;

  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const dynalite = require("dynalite") as (options: { createTableMs: number }) => Server;
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const newTable = async () => {
    const tableName = `shares-${randomUUID()}`;
    // dynalite has no UpdateTimeToLive; the TTL request is checked against a mock below.
    await createLedgerTable(client, tableName, { timeToLive: false });
    return tableName;
  };

  // A small page size makes every query span several pages, as a large table's would.
  shareLedgerContract("DynamoDB", async () => {
    const tableName = await newTable();
    return { open: async () => dynamoDbLedger({ client, tableName, pageSize: 2 }), dispose: async () => {} };
  });

  it("creates the table with its three indexes, and leaves an existing one alone", async () => {
    const tableName = await newTable();
    const ledger = dynamoDbLedger({ client, tableName });
    const share = aShare();
    await ledger.record(share);
    await createLedgerTable(client, tableName, { timeToLive: false });
    expect(await ledger.get(share.id)).toBeDefined();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      "byCreated",
      "byDue",
      "bySharer",
    ]);
  });

  it("reads only as many items as asked for when it is not filtering", async () => {
    const tableName = await newTable();
    const ledger = dynamoDbLedger({ client, tableName });
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push((await ledger.record(aShare({ createdAt: minutes(i) }))).id);
    expect((await ledger.list({ limit: 3 })).map((s) => s.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect((await ledger.list({ states: ["pending"], limit: 4 })).map((s) => s.id)).toEqual(
      [...ids].reverse().slice(0, 4),
    );
    expect((await ledger.dueForExpiry(minutes(2 * DAY), 2)).map((s) => s.id)).toHaveLength(2);
  });

  it("sets the expiry of each item a retention period after its link expires", async () => {
    const tableName = await newTable();
    const ledger = dynamoDbLedger({ client, tableName, retentionDays: 30 });
    const share = aShare();
    await ledger.record(share);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: share.id } } }),
    );
    expect(Number(Item?.ttl?.N)).toBe((share.expiresAt.getTime() + 30 * 86_400_000) / 1000);
  });

  it("turns TTL on for the table", async () => {
    const mock = mockClient(DynamoDBClient);
    mock.on(CreateTableCommand).resolves({});
    mock.on(DescribeTableCommand).resolves({ Table: { TableStatus: "ACTIVE" } });
    mock.on(UpdateTimeToLiveCommand).resolves({});
    try {
      await createLedgerTable(new DynamoDBClient({ region: "us-east-1" }), "shares");
      expect(mock.commandCalls(UpdateTimeToLiveCommand)[0]?.args[0].input).toEqual({
        TableName: "shares",
        TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
      });
    } finally {
      mock.restore();
    }
  });

  it("says the table is missing and how to create it", async () => {
    const ledger = dynamoDbLedger({ client, tableName: "no-such-table" });
    const error = await ledger.get(newShareId()).catch((e: unknown) => e);
    expect(isHandoutError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/no-such-table.*createLedgerTable/);
  });
});
