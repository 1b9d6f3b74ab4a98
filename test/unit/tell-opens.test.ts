import { describe, expect, it } from "vitest";
import type { ShareLedger } from "../../src/domain/ledger.js";
import type { ShareOpen, ShareRecord } from "../../src/domain/share.js";
import { OPEN_NOTICE_WINDOW_MS, tellOpens } from "../../src/domain/tell-opens.js";
import { openNoticeText } from "../../src/slack/blocks/open-notice.js";

const T0 = Date.parse("2026-11-27T12:00:00Z");

const share = (overrides: Partial<ShareRecord> = {}): ShareRecord => ({
  id: "s".repeat(22),
  sharerId: "U0ANA",
  keys: ["reports/q1.pdf", "reports/q2.pdf"],
  channelId: "C0GENERAL",
  mode: "post",
  createdAt: new Date(T0 - 86_400_000),
  expiresAt: new Date(T0 + 86_400_000),
  state: "active",
  expiryNotified: false,
  access: "members",
  notifyOpens: true,
  message: { channelId: "C0GENERAL", ts: "1.2", via: "message", pinned: false },
  ...overrides,
});

/** Opens kept in memory with the ledger's claim rule: each open is handed out once, oldest first. */
function memoryLedger(
  shares: ShareRecord[],
  opens: ShareOpen[],
): Pick<ShareLedger, "list" | "claimOpensToNotify"> {
  const told = new Set<ShareOpen>();
  return {
    list: async () => shares,
    claimOpensToNotify: async (id, upTo) => {
      const due = opens.filter((o) => o.shareId === id && o.at <= upTo && !told.has(o));
      for (const o of due) told.add(o);
      return due;
    },
  };
}

const open = (userId: string, key: string, at: number, shareId = "s".repeat(22)): ShareOpen => ({
  shareId,
  fileIndex: key.endsWith("q1.pdf") ? 0 : 1,
  key,
  userId,
  at: new Date(at),
  userAgent: "test",
});

function setup(shares: ShareRecord[], opens: ShareOpen[]) {
  let now = T0;
  const told: { share: string; opens: ShareOpen[] }[] = [];
  const deps = {
    ledger: memoryLedger(shares, opens),
    notices: {
      tell: async (s: ShareRecord, o: readonly ShareOpen[]) => {
        told.push({ share: s.id, opens: [...o] });
      },
    },
    now: () => new Date(now),
  };
  return { deps, told, advance: (ms: number) => (now += ms) };
}

describe("telling sharers who opened their links", () => {
  it("tells once for every open of a window, however many passes run in it", async () => {
    const opens = [
      open("U0BOB", "reports/q1.pdf", T0 - 60_000),
      open("U0BOB", "reports/q1.pdf", T0 - 50_000),
      open("U0DAN", "reports/q2.pdf", T0 - 40_000),
    ];
    const { deps, told, advance } = setup([share()], opens);
    expect(await tellOpens(deps, () => {})).toBe(1);
    expect(told[0]?.opens).toHaveLength(3);
    advance(30_000);
    expect(await tellOpens(deps, () => {})).toBe(0);
    expect(told).toHaveLength(1);
  });

  it("keeps an open made in the current window for the next one", async () => {
    const windowStart = Math.floor(T0 / OPEN_NOTICE_WINDOW_MS) * OPEN_NOTICE_WINDOW_MS;
    const { deps, told, advance } = setup([share()], [open("U0BOB", "reports/q1.pdf", windowStart + 1)]);
    expect(await tellOpens(deps, () => {})).toBe(0);
    advance(OPEN_NOTICE_WINDOW_MS);
    expect(await tellOpens(deps, () => {})).toBe(1);
    expect(told[0]?.opens.map((o) => o.userId)).toEqual(["U0BOB"]);
  });

  it("tells nobody about a share whose sharer did not ask, or one with plain links", async () => {
    const quiet = share({ notifyOpens: false });
    const plainLinks = share({ id: "p".repeat(22), access: "link" });
    const { deps, told } = setup(
      [quiet, plainLinks],
      [
        open("U0BOB", "reports/q1.pdf", T0 - 60_000),
        open("U0BOB", "reports/q1.pdf", T0 - 60_000, plainLinks.id),
      ],
    );
    expect(await tellOpens(deps, () => {})).toBe(0);
    expect(told).toEqual([]);
  });

  it("names who opened what, counting repeats", () => {
    const text = openNoticeText(share(), [
      open("U0BOB", "reports/q1.pdf", T0),
      open("U0BOB", "reports/q1.pdf", T0),
      open("U0DAN", "reports/q2.pdf", T0),
    ]);
    expect(text).toBe(
      "Your links were opened:\n• <@U0BOB> opened “q1.pdf” twice\n• <@U0DAN> opened “q2.pdf”",
    );
  });

  it("counts the people beyond the first twenty instead of naming them", () => {
    const many = Array.from({ length: 25 }, (_, i) => open(`U0P${i}`, "reports/q1.pdf", T0));
    const text = openNoticeText(share(), many);
    expect(text.split("\n")).toHaveLength(22);
    expect(text).toMatch(/and 5 more people: see Handout's App Home$/);
  });
});
