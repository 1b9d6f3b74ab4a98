import { afterEach, describe, expect, it } from "vitest";
import { type ExpiryScheduler, startExpiryScheduler } from "../../src/app/expiry-scheduler.js";
import type { ShareLedger } from "../../src/domain/ledger.js";
import type { ShareMessages } from "../../src/domain/ports.js";
import type { ShareRecord } from "../../src/domain/share.js";
import { newShareId } from "../../src/domain/share-id.js";
import type { LifeDependencies } from "../../src/domain/use-cases/dependencies.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { captureLogs } from "../support/log.js";

const HOUR = 3_600_000;
const NOW = new Date("2026-11-26T12:00:00Z");

/** The scheduler over a real SQLite ledger in memory, with messages recorded instead of sent. */
async function setUp(ledgerOverrides: Partial<ShareLedger> = {}) {
  const ledger = await openSqliteLedger(":memory:");
  const sent: { kind: string; id: string }[] = [];
  const messages: ShareMessages = {
    revoked: async () => "edited",
    replaced: async () => {},
    expired: async (share) => {
      sent.push({ kind: "expired", id: share.id });
    },
    expiresSoon: async (share) => {
      sent.push({ kind: "expiresSoon", id: share.id });
    },
  };
  const deps = {
    ledger: { ...ledger, ...ledgerOverrides },
    messages,
    now: () => NOW,
  } as unknown as LifeDependencies;
  const share = async (mode: "post" | "announce", ageMs: number, leftMs: number): Promise<ShareRecord> => {
    const recorded = await ledger.record({
      id: newShareId(),
      sharerId: "U1",
      keys: ["reports/q1.pdf"],
      channelId: "C1",
      mode,
      createdAt: new Date(NOW.getTime() - ageMs),
      expiresAt: new Date(NOW.getTime() + leftMs),
      ...(mode === "announce" ? { title: "Q1" } : {}),
    });
    await ledger.posted(recorded.id, { channelId: "C1", ts: "1.2", via: "message", pinned: false });
    return recorded;
  };
  return { ledger, deps, sent, share };
}

describe("the expiry pass", () => {
  let scheduler: ExpiryScheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  it("expires what is due and reminds announcements within the window, once, when run by hand", async () => {
    const { deps, sent, share } = await setUp();
    const expired = await share("post", 2 * HOUR, -HOUR);
    const announced = await share("announce", 5 * 24 * HOUR, 6 * HOUR);
    await share("announce", 5 * 24 * HOUR, 3 * 24 * HOUR);
    const logs = captureLogs();
    scheduler = startExpiryScheduler(
      deps,
      { intervalMs: HOUR, reminderWindowMs: 24 * HOUR, timer: false },
      logs.logger,
    );
    expect(sent).toEqual([]);

    expect(await scheduler.runNow()).toBe(1);
    expect(sent).toEqual([
      { kind: "expired", id: expired.id },
      { kind: "expiresSoon", id: announced.id },
    ]);
    expect(await scheduler.runNow()).toBe(0);
    expect(sent).toHaveLength(2);
    expect(logs.text()).toContain("reminded sharers of expiring announcements");
  });

  it("stops taking shares when told to, leaving the rest for the next pass", async () => {
    const { ledger, deps, sent, share } = await setUp();
    const first = await share("post", 3 * HOUR, -2 * HOUR);
    const second = await share("post", 2 * HOUR, -HOUR);
    scheduler = startExpiryScheduler(deps, { intervalMs: HOUR, timer: false }, captureLogs().logger);
    let budget = 1;
    expect(await scheduler.runNow(() => budget-- > 0)).toBe(1);
    expect(sent).toEqual([{ kind: "expired", id: first.id }]);
    expect((await ledger.get(second.id))?.state).toBe("active");
    expect(await scheduler.runNow()).toBe(1);
    expect((await ledger.get(second.id))?.state).toBe("expired");
  });

  it("leaves an extended share's message alone when it expires: it points to the newer one", async () => {
    const { ledger, deps, sent, share } = await setUp();
    const extended = await share("post", 2 * HOUR, -HOUR);
    const extension = await share("post", HOUR, 5 * HOUR);
    await ledger.markReplaced(extended.id, extension.id);
    // An extension that never got posted changed nothing: that message says its links expired.
    const unfinished = await share("post", 2 * HOUR, -HOUR);
    await ledger.markReplaced(unfinished.id, newShareId());
    scheduler = startExpiryScheduler(deps, { intervalMs: HOUR, timer: false }, captureLogs().logger);
    expect(await scheduler.runNow()).toBe(2);
    expect((await ledger.get(extended.id))?.state).toBe("expired");
    expect(sent).toEqual([{ kind: "expired", id: unfinished.id }]);
  });

  it("rejects a pass the ledger could not answer, after trying reminders too, and says which failed", async () => {
    const down = async () => {
      throw new Error("the ledger is unreachable");
    };
    const { deps, sent, share } = await setUp({ dueForExpiry: down });
    const announced = await share("announce", 5 * 24 * HOUR, 6 * HOUR);
    const logs = captureLogs();
    scheduler = startExpiryScheduler(
      deps,
      { intervalMs: HOUR, reminderWindowMs: 24 * HOUR, timer: false },
      logs.logger,
    );

    await expect(scheduler.runNow()).rejects.toThrow("the ledger is unreachable");
    expect(sent).toEqual([{ kind: "expiresSoon", id: announced.id }]);
    expect(logs.text()).toContain("could not look for expired shares");
    expect(logs.text()).not.toContain("could not look for announcements to remind");

    const reminders = await setUp({ dueForReminder: down });
    const quiet = captureLogs();
    const second = startExpiryScheduler(
      reminders.deps,
      { intervalMs: HOUR, reminderWindowMs: 24 * HOUR, timer: false },
      quiet.logger,
    );
    await expect(second.runNow()).rejects.toThrow("the ledger is unreachable");
    expect(quiet.text()).toContain("could not look for announcements to remind");
    await second.stop();
  });

  it("keeps passing on its timer after a failed pass", async () => {
    let calls = 0;
    const { deps } = await setUp({
      dueForExpiry: async () => {
        calls++;
        if (calls === 1) throw new Error("a blip");
        return [];
      },
    });
    scheduler = startExpiryScheduler(deps, { intervalMs: 20 }, captureLogs().logger);
    for (let i = 0; i < 100 && calls < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toBeGreaterThanOrEqual(3);
  });
});
