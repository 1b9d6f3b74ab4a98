import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { runHandout } from "../support/cli.js";
import {
  answered,
  block,
  buttonsOf,
  type Harness,
  type Steps,
  useHarness,
  type View,
} from "../support/handout-harness.js";
import { tempFolderSync } from "../support/temp.js";

const PUBLIC_URL = "https://files.example.com";

/** Finance's reports open for members only; the handbook leaves the choice to the sharer. */
const policyFile = (() => {
  const file = join(tempFolderSync("members-policy"), "access.yml");
  writeFileSync(
    file,
    `rules:
  - name: Finance
    who: { groups: [finance] }
    prefixes: [reports/]
    max_expiry: 30d
    open: members
  - name: Handbook
    who: { everyone: true }
    prefixes: [public/handbook/]
    max_expiry: 7d
`,
  );
  return file;
})();

const GATE_ENV = {
  HANDOUT_POLICY_FILE: policyFile,
  HANDOUT_PUBLIC_URL: PUBLIC_URL,
  SLACK_CLIENT_ID: "1234567890.1234567890",
  SLACK_CLIENT_SECRET: "client-secret-for-tests",
  HANDOUT_SESSION_SECRET: "s".repeat(40),
};

async function sendEvent(h: Harness, event: Record<string, unknown>) {
  const body = JSON.stringify({
    token: "legacy-verification-token",
    team_id: "T0001",
    api_app_id: "A0001",
    type: "event_callback",
    event_id: `Ev${Math.random().toString(36).slice(2)}`,
    event_time: Math.floor(h.clock.now().getTime() / 1000),
    event: { ...event, event_ts: `${h.clock.now().getTime() / 1000}` },
  });
  const response = await h.requests.rawPost(body, {
    ...h.requests.sign(body),
    "content-type": "application/json",
  });
  expect(response.status).toBe(200);
}

/** The share ledger as another process sees it: the same SQLite file. */
const withLedger = async <T>(
  h: Harness,
  use: (ledger: Awaited<ReturnType<typeof openSqliteLedger>>) => Promise<T>,
) => {
  const ledger = await openSqliteLedger(join(h.dir, "handout.db"));
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
};

const shareIdOf = (url: string): string => new URL(url).pathname.split("/")[2] as string;

describe("members-only links, with the gate set up", () => {
  let h: Harness;
  let steps: Steps;
  useHarness((ready) => {
    ({ h, steps } = ready);
  }, GATE_ENV);

  it("offers only members-only links for a file whose rule forces them, preselected", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL", "q1 2026.pdf");
    const open = block(view, "open");
    expect(open?.element?.options?.map((o) => o.value)).toEqual(["members"]);
    expect(open?.element?.initial_option?.value).toBe("members");
    expect(block(view, "notify_opens")).toBeDefined();
  });

  it("offers both choices, plain links preselected, where the rule leaves it to the sharer", async () => {
    const { view } = await steps.share("U0BOB", "C0GENERAL", "handbook.pdf");
    const open = block(view, "open");
    expect(open?.element?.options?.map((o) => o.value)).toEqual(["link", "members"]);
    expect(open?.element?.initial_option?.value).toBe("link");
  });

  it("posts stable links with no signature, records access members, and says who can open", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const ack = await steps.submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf", "k:reports/2026/q2.pdf"],
      open: "members",
      notifyOpens: true,
    });
    expect(ack.body).toMatchObject({ response_action: "update" });
    const posted = await h.slack.waitFor("chat.postMessage");
    const urls = buttonsOf(posted);
    expect(urls).toHaveLength(2);
    const id = shareIdOf(urls[0] as string);
    expect(urls).toEqual([`${PUBLIC_URL}/o/${id}/0`, `${PUBLIC_URL}/o/${id}/1`]);
    expect(JSON.stringify(posted.args)).not.toMatch(/Signature|Key-Pair-Id|Expires=/);
    expect(JSON.stringify(posted.args.blocks)).toContain("only people in this conversation can open them");
    expect(await steps.outcome(view)).toContain("Only people in <#C0GENERAL> can open them");
    const record = await withLedger(h, (ledger) => ledger.get(id));
    expect(record).toMatchObject({ access: "members", notifyOpens: true, state: "active" });
  });

  it("refuses a payload that asks for plain links where the rule forces members-only, and posts nothing", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const ack = await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], open: "link" });
    expect(ack.body).toMatchObject({
      response_action: "errors",
      errors: { open: expect.stringContaining("only by people in the conversation") },
    });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("keeps a members-only share shown only to the sharer for the sharer alone, with no notices to ask for", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    await steps.submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf"],
      how: "ephemeral",
      open: "members",
      notifyOpens: true,
    });
    expect(await steps.outcome(view)).toContain("Only you can open them");
    const shown = await h.slack.waitFor("chat.postEphemeral");
    const id = shareIdOf(buttonsOf(shown)[0] as string);
    expect(await withLedger(h, (ledger) => ledger.get(id))).toMatchObject({
      access: "members",
      mode: "ephemeral",
      notifyOpens: false,
    });
  });

  it("lists a members-only share's opens in App Home and in handout audit", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], open: "members" });
    const id = shareIdOf(buttonsOf(await h.slack.waitFor("chat.postMessage"))[0] as string);
    const at = h.clock.now();
    await withLedger(h, async (ledger) => {
      for (const [userId, offset] of [
        ["U0BOB", 0],
        ["U0ADMIN", 1000],
        ["U0BOB", 2000],
      ] as const) {
        await ledger.recordOpen({
          shareId: id,
          fileIndex: 0,
          key: "reports/q1 2026.pdf",
          userId,
          at: new Date(at.getTime() + offset),
          userAgent: "Mozilla/5.0",
        });
      }
    });
    await sendEvent(h, { type: "app_home_opened", user: "U0ANA", tab: "home", channel: "D0ANA" });
    const home = await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes(id),
    );
    const text = JSON.stringify((home.args.view as View).blocks);
    expect(text).toContain("opened 3 times by <@U0BOB>, <@U0ADMIN>");
    expect(text).toContain(`last <!date^${Math.floor((at.getTime() + 2000) / 1000)}^`);

    const audit = (...args: string[]) =>
      runHandout(["audit", ...args], { HANDOUT_LEDGER: `sqlite:${h.dir}/handout.db` }, h.dir);
    const json = await audit("--format", "json");
    expect(json.code).toBe(0);
    const row = (JSON.parse(json.stdout) as { id: string; access: string; opens: unknown[] }[]).find(
      (r) => r.id === id,
    );
    expect(row?.access).toBe("members");
    expect(row?.opens).toEqual([
      {
        at: at.toISOString(),
        user: "U0BOB",
        file: "reports/q1 2026.pdf",
        file_index: 0,
        user_agent: "Mozilla/5.0",
      },
      {
        at: new Date(at.getTime() + 1000).toISOString(),
        user: "U0ADMIN",
        file: "reports/q1 2026.pdf",
        file_index: 0,
        user_agent: "Mozilla/5.0",
      },
      {
        at: new Date(at.getTime() + 2000).toISOString(),
        user: "U0BOB",
        file: "reports/q1 2026.pdf",
        file_index: 0,
        user_agent: "Mozilla/5.0",
      },
    ]);
    const csv = await audit("--user", "U0ANA");
    expect(csv.stdout).toContain(`members,"${at.toISOString()} U0BOB reports/q1 2026.pdf\n`);
  });

  it("tells the sharer who opened, in one thread reply for a window's opens", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    await steps.submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf"],
      open: "members",
      notifyOpens: true,
    });
    const posted = await h.slack.waitFor("chat.postMessage");
    const { ts } = (await answered(posted)).response.body as { ts: string };
    const id = shareIdOf(buttonsOf(posted)[0] as string);
    const at = h.clock.now();
    await withLedger(h, async (ledger) => {
      for (const userId of ["U0BOB", "U0BOB", "U0ADMIN"]) {
        await ledger.recordOpen({
          shareId: id,
          fileIndex: 0,
          key: "reports/q1 2026.pdf",
          userId,
          at,
          userAgent: "x",
        });
      }
    });
    h.clock.advance(6 * 60_000);
    await h.handout.expiry?.runNow();
    await h.handout.expiry?.runNow();
    const replies = h.slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.args.channel).toBe("C0GENERAL");
    expect(String(replies[0]?.args.text)).toBe(
      "Your link was opened:\n• <@U0BOB> opened “q1 2026.pdf” twice\n• <@U0ADMIN> opened “q1 2026.pdf”",
    );
  });
});

describe("members-only links, without the gate", () => {
  let h: Harness;
  let steps: Steps;
  useHarness(
    (ready) => {
      ({ h, steps } = ready);
    },
    { HANDOUT_POLICY_FILE: policyFile },
  );

  it("does not offer who can open", async () => {
    const { view } = await steps.share("U0BOB", "C0GENERAL", "handbook.pdf");
    expect(block(view, "open")).toBeUndefined();
  });

  it("refuses a payload that claims members-only links, and posts nothing", async () => {
    const { view } = await steps.share("U0BOB", "C0GENERAL");
    const ack = await steps.submit(view, "U0BOB", {
      files: ["k:public/handbook/handbook.pdf"],
      open: "members",
    });
    expect(ack.body).toMatchObject({
      response_action: "errors",
      errors: { open: expect.stringContaining("anyone with the link only") },
    });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("refuses a file whose rule forces members-only links, saying what is missing", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const ack = await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"] });
    expect(ack.body).toMatchObject({
      response_action: "errors",
      errors: { files: expect.stringContaining("HANDOUT_PUBLIC_URL is not set") },
    });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});
