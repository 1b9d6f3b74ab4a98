import { describe, expect, it } from "vitest";
import type { NewShare, ShareRecord } from "../../src/domain/share.js";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { SHARE_ID_PARAM } from "../../src/signing/cloudfront-signer.js";
import { runHandout } from "../support/cli.js";
import {
  answered,
  type Block,
  buttonsOf,
  DAY,
  type Harness,
  openedViewId,
  type Steps,
  useHarness,
  type View,
} from "../support/handout-harness.js";
import { recordPostedShare } from "../support/ledger.js";
import type { SlackCall } from "../support/slack-double.js";

const HOUR = 3_600_000;

let h: Harness;
let steps: Steps;
useHarness(
  (ready) => {
    ({ h, steps } = ready);
  },
  { HANDOUT_ANNOUNCEMENT_REMINDER: "1d" },
);

/** Shares one file as Ana in #general; the posted message and the share's id. */
async function shareAsAna(choice: { expirySeconds?: number; at?: number } = {}) {
  const { view } = await steps.share("U0ANA", "C0GENERAL");
  await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], ...choice });
  const posted = await h.slack.waitFor("chat.postMessage");
  const [url] = buttonsOf(posted);
  const shareId = new URL(url as string).searchParams.get(SHARE_ID_PARAM) as string;
  await steps.outcome(view);
  const { response } = await answered(posted);
  return { posted, url: url as string, shareId, ts: (response.body as { ts: string }).ts };
}

/** Reads the ledger the running app writes, as the operator's CLI would (a second connection). */
async function ledgerRecord(id: string): Promise<ShareRecord | undefined> {
  const ledger = await openSqliteLedger(`${h.dir}/handout.db`);
  try {
    return await ledger.get(id);
  } finally {
    await ledger.close();
  }
}

/**
 * A share by Ana in #general written straight into the ledger, as if posted `ageMs` ago, whose links
 * last `leftMs` more (negative: already past), with a message to edit; its id.
 */
async function pastShare(ageMs: number, leftMs: number, extra: Partial<NewShare> = {}): Promise<string> {
  const share: NewShare = {
    id: newShareId(),
    sharerId: "U0ANA",
    keys: ["reports/q1 2026.pdf"],
    channelId: "C0GENERAL",
    mode: "post",
    createdAt: new Date(Date.now() - ageMs),
    expiresAt: new Date(Date.now() + leftMs),
    ...extra,
  };
  await recordPostedShare(`${h.dir}/handout.db`, share, {
    channelId: "C0GENERAL",
    ts: "1893456000.000100",
    via: "message",
    pinned: false,
  });
  return share.id;
}

/** An Events API callback, signed as Slack signs it. */
async function sendEvent(event: Record<string, unknown>) {
  const body = JSON.stringify({
    token: "legacy-verification-token",
    team_id: "T0001",
    api_app_id: "A0001",
    type: "event_callback",
    event_id: `Ev${Date.now()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { ...event, event_ts: `${Date.now() / 1000}` },
  });
  const response = await h.requests.rawPost(body, {
    ...h.requests.sign(body),
    "content-type": "application/json",
  });
  expect(response.status).toBe(200);
}

const homeButton = (publish: SlackCall, actionId: string, shareId: string) =>
  ((publish.args.view as View).blocks as Block[])
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === actionId && e.value === shareId);

const click = (
  user: string,
  actionId: string,
  value: string,
  view: Record<string, unknown> = { type: "home" },
) =>
  h.requests.interaction(
    h.requests.blockActions({
      user,
      actions: [{ action_id: actionId, type: "button", value }],
      view: { ...view },
    }),
  );

describe("the ledger behind every share", () => {
  it("records the share, and signs its id into every link", async () => {
    const { shareId, ts } = await shareAsAna();
    expect(shareId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const record = await ledgerRecord(shareId);
    expect(record).toMatchObject({
      sharerId: "U0ANA",
      keys: ["reports/q1 2026.pdf"],
      channelId: "C0GENERAL",
      state: "active",
      message: { channelId: "C0GENERAL", ts, via: "message" },
    });
  });
});

describe("App Home", () => {
  it("lists a person's links with Revoke and Extend", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    await sendEvent({ type: "app_home_opened", user: "U0ANA", tab: "home", channel: "D0ANA" });
    const publish = await h.slack.waitFor(
      "views.publish",
      (call) => homeButton(call, "handout_revoke", shareId) !== undefined,
    );
    expect(publish.args.user_id).toBe("U0ANA");
    expect(homeButton(publish, "handout_revoke", shareId)).toBeDefined();
    expect(homeButton(publish, "handout_extend", shareId)).toBeDefined();
    expect(JSON.stringify(publish.args.view)).toContain("Your links");
  });
});

describe("revoke", () => {
  it("revokes from App Home: recorded, the message loses its links and says who revoked it", async () => {
    const { shareId, ts } = await shareAsAna();
    h.slack.reset();
    await click("U0ANA", "handout_revoke", shareId);
    const update = await h.slack.waitFor("chat.update");
    expect(update.args).toMatchObject({ channel: "C0GENERAL", ts });
    const text = JSON.stringify(update.args.blocks);
    expect(text).toContain("revoked by <@U0ANA>");
    expect(text).not.toContain("https://");
    expect((await ledgerRecord(shareId))?.state).toBe("revoked");
    const publish = await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes(":no_entry: Revoked"),
    );
    expect(publish.args.user_id).toBe("U0ANA");
    // No edge deny list here: the notice says plainly that copies of the links still open.
    expect(JSON.stringify(publish.args.view)).toContain(
      "The links are gone from the message. Copies of the links keep opening until they expire",
    );
  });

  it("refuses a forged revoke from another person, and changes nothing", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    await click("U0BOB", "handout_revoke", shareId);
    const publish = await h.slack.waitFor("views.publish", (call) => call.args.user_id === "U0BOB");
    expect(JSON.stringify(publish.args.view)).toContain(
      "Only the person who shared these files, or an admin",
    );
    expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    expect((await ledgerRecord(shareId))?.state).toBe("active");
  });

  it("lets an admin revoke anyone's share", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    await click("U0ADMIN", "handout_revoke", shareId);
    const update = await h.slack.waitFor("chat.update");
    expect(JSON.stringify(update.args.blocks)).toContain("revoked by <@U0ADMIN>");
    expect((await ledgerRecord(shareId))?.revokedBy).toBe("U0ADMIN");
  });

  it("says the links still show where Slack lets no one edit the message: a reply to /share, or shown only to the person", async () => {
    for (const [choice, said] of [
      [{ channel: "C0QUIET" }, "was Handout's reply to /share, which Slack does not let Handout edit"],
      [{ how: "ephemeral" }, "were shown only to you in <#C0GENERAL>, which Slack does not let Handout edit"],
    ] as const) {
      h.slack.reset();
      const { view, responseUrlId } = await steps.share("U0ANA", choice.channel ?? "C0GENERAL");
      await steps.submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], ...choice });
      await steps.outcome(view);
      const shown = choice.channel
        ? await h.slack.waitFor(`response_url:${responseUrlId}`)
        : await h.slack.waitFor("chat.postEphemeral");
      const [url] = buttonsOf(shown);
      const shareId = new URL(url as string).searchParams.get(SHARE_ID_PARAM) as string;
      h.slack.reset();
      await click("U0ANA", "handout_revoke", shareId);
      const publish = await h.slack.waitFor("views.publish", (c) =>
        JSON.stringify(c.args.view).includes(":no_entry: Revoked"),
      );
      const notice = JSON.stringify(publish.args.view);
      expect(notice).toContain(said);
      expect(notice).not.toContain("gone from the message");
      expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    }
  });

  it("shows a share left pending by a crash as not confirmed, and revoking it says what Handout cannot know", async () => {
    const ledger = await openSqliteLedger(`${h.dir}/handout.db`);
    const id = newShareId();
    try {
      await ledger.record({
        id,
        sharerId: "U0ANA",
        keys: ["reports/q1 2026.pdf"],
        channelId: "C0GENERAL",
        mode: "post",
        createdAt: new Date(Date.now() - HOUR),
        expiresAt: new Date(Date.now() + 5 * HOUR),
      });
    } finally {
      await ledger.close();
    }
    await sendEvent({ type: "app_home_opened", user: "U0ANA", tab: "home", channel: "D0ANA" });
    const home = await h.slack.waitFor(
      "views.publish",
      (call) => homeButton(call, "handout_revoke", id) !== undefined,
    );
    const listed = JSON.stringify(home.args.view);
    expect(listed).toContain("not confirmed: Handout stopped while posting");
    expect(listed).not.toContain(":hourglass_flowing_sand: posting");

    h.slack.reset();
    await click("U0ANA", "handout_revoke", id);
    const publish = await h.slack.waitFor("views.publish", (c) =>
      JSON.stringify(c.args.view).includes(":no_entry: Revoked"),
    );
    const notice = JSON.stringify(publish.args.view);
    expect(notice).toContain(
      "Handout stopped while posting it, so it cannot tell whether the links reached <#C0GENERAL>",
    );
    expect(notice).not.toContain("gone from the message");
    expect((await ledgerRecord(id))?.state).toBe("revoked");
  });

  it("says so when the share was already revoked", async () => {
    const { shareId } = await shareAsAna();
    await click("U0ANA", "handout_revoke", shareId);
    await h.slack.waitFor("views.publish");
    h.slack.reset();
    await click("U0ANA", "handout_revoke", shareId);
    const publish = await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes(":warning:"),
    );
    expect(JSON.stringify(publish.args.view)).toContain("That share was already revoked.");
  });
});

describe("extend", () => {
  /** Opens the extend dialog from the share's button; the dialog once filled in. */
  const openExtend = (user: string, shareId: string) => steps.openExtend(user, shareId);
  const submitExtend = (user: string, view: View, expirySeconds: number) =>
    steps.submitExtend(user, view, expirySeconds);

  async function extend(user: string, shareId: string, expirySeconds: number) {
    const view = await openExtend(user, shareId);
    return { view, ack: await submitExtend(user, view, expirySeconds) };
  }

  it("says an extension of a share shown only to its sharer was shown to them again, not posted", async () => {
    const { view: form } = await steps.share("U0ANA", "C0GENERAL");
    await steps.submit(form, "U0ANA", { files: ["k:reports/q1 2026.pdf"], how: "ephemeral" });
    await steps.outcome(form);
    const shown = await h.slack.waitFor("chat.postEphemeral");
    const shareId = new URL(buttonsOf(shown)[0] as string).searchParams.get(SHARE_ID_PARAM) as string;
    h.slack.reset();
    const { view } = await extend("U0ANA", shareId, 7 * DAY);
    const said = await steps.outcome(view);
    expect(said).toContain("Showed the files to you alone in <#C0GENERAL> again.");
    expect(said).not.toContain("Shared again in");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("posts new links in the same place, and the old message points to them", async () => {
    const { shareId, ts } = await shareAsAna();
    h.slack.reset();
    const { view, ack } = await extend("U0ANA", shareId, 7 * DAY);
    expect(ack.body).toMatchObject({ response_action: "update" });
    const posted = await h.slack.waitFor("chat.postMessage");
    expect(posted.args.channel).toBe("C0GENERAL");
    const newId = new URL(buttonsOf(posted)[0] as string).searchParams.get(SHARE_ID_PARAM) as string;
    expect(newId).not.toBe(shareId);
    const oldUpdate = await h.slack.waitFor("chat.update");
    expect(oldUpdate.args.ts).toBe(ts);
    expect(JSON.stringify(oldUpdate.args.blocks)).toContain("extended");
    expect(await steps.outcome(view)).toContain("Shared again in <#C0GENERAL>");
    expect((await ledgerRecord(shareId))?.replacedBy).toBe(newId);
    expect((await ledgerRecord(newId))?.replaces).toBe(shareId);
  });

  it("posts once when the same share is extended from two dialogs at the same moment", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    const first = await openExtend("U0ANA", shareId);
    const second = await openExtend("U0ANA", shareId);
    await Promise.all([submitExtend("U0ANA", first, 7 * DAY), submitExtend("U0ANA", second, DAY)]);
    const outcomes = await Promise.all([steps.outcome(first), steps.outcome(second)]);
    expect(outcomes.filter((text) => text.includes("Shared again in <#C0GENERAL>"))).toHaveLength(1);
    expect(
      outcomes.filter((text) =>
        text.includes("That share was already extended, or is being extended right now."),
      ),
    ).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const posts = h.slack.callsTo("chat.postMessage");
    expect(posts).toHaveLength(1);
    const newId = new URL(buttonsOf(posts[0] as SlackCall)[0] as string).searchParams.get(SHARE_ID_PARAM);
    expect((await ledgerRecord(shareId))?.replacedBy).toBe(newId);
  });

  it("can extend again when posting the extension failed", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    h.slack.failNext("chat.postMessage", { error: "channel_not_found" });
    const { view } = await extend("U0ANA", shareId, 7 * DAY);
    expect(await steps.outcome(view)).toContain("Nothing was shared.");
    expect((await ledgerRecord(shareId))?.replacedBy).toBeUndefined();

    const again = await extend("U0ANA", shareId, 7 * DAY);
    expect(await steps.outcome(again.view)).toContain("Shared again in <#C0GENERAL>");
    const posted = h.slack.callsTo("chat.postMessage").filter((call) => call.response?.status === 200);
    const newId = new URL(buttonsOf(posted.at(-1) as SlackCall)[0] as string).searchParams.get(
      SHARE_ID_PARAM,
    );
    expect((await ledgerRecord(shareId))?.replacedBy).toBe(newId);
  });

  /** Claims Ana's share for an extension begun `ageMs` ago and left pending, or failed. */
  async function leftClaim(shareId: string, state: "pending" | "failed", ageMs = 1000): Promise<string> {
    const ledger = await openSqliteLedger(`${h.dir}/handout.db`);
    try {
      const id = newShareId();
      const old = (await ledger.get(shareId)) as ShareRecord;
      await ledger.record({ ...old, id, createdAt: new Date(Date.now() - ageMs), replaces: shareId });
      if (state === "failed") await ledger.failed(id, "the process stopped");
      expect((await ledger.markReplaced(shareId, id)).changed).toBe(true);
      return id;
    } finally {
      await ledger.close();
    }
  }

  it("refuses while another extension is pending, and takes over one that failed", async () => {
    const { shareId } = await shareAsAna();
    const underWay = await leftClaim(shareId, "pending");
    h.slack.reset();
    const refused = await extend("U0ANA", shareId, 7 * DAY);
    expect(await steps.outcome(refused.view)).toContain("is being extended right now");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect((await ledgerRecord(shareId))?.replacedBy).toBe(underWay);

    // One that never finished: the person is told what to do instead.
    const stuck = await shareAsAna();
    const unfinished = await leftClaim(stuck.shareId, "pending", HOUR);
    h.slack.reset();
    const never = await extend("U0ANA", stuck.shareId, 7 * DAY);
    expect(await steps.outcome(never.view)).toContain("never finished");
    expect(await steps.outcome(never.view)).toContain("Share the files again with /share.");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect((await ledgerRecord(stuck.shareId))?.replacedBy).toBe(unfinished);
    // Its message was never turned into a pointer: a revoke still takes the links out of it.
    h.slack.reset();
    await click("U0ANA", "handout_revoke", stuck.shareId);
    const edited = await h.slack.waitFor("chat.update", (call) => call.args.ts === stuck.ts);
    expect(JSON.stringify(edited.args.blocks)).toContain("revoked by");

    const other = (await shareAsAna()).shareId;
    await leftClaim(other, "failed");
    h.slack.reset();
    const taken = await extend("U0ANA", other, 7 * DAY);
    expect(await steps.outcome(taken.view)).toContain("Shared again in <#C0GENERAL>");
    const newId = new URL(buttonsOf(await h.slack.waitFor("chat.postMessage"))[0] as string).searchParams.get(
      SHARE_ID_PARAM,
    );
    expect((await ledgerRecord(other))?.replacedBy).toBe(newId);
  });

  it("keeps Revoke on an extended share in App Home, and revoking it keeps the message's pointer", async () => {
    const { shareId, ts } = await shareAsAna();
    h.slack.reset();
    const { view } = await extend("U0ANA", shareId, 7 * DAY);
    await steps.outcome(view);
    const publish = await h.slack.waitFor("views.publish");
    expect(homeButton(publish, "handout_revoke", shareId)).toBeDefined();
    expect(homeButton(publish, "handout_extend", shareId)).toBeUndefined();

    h.slack.reset();
    await click("U0ANA", "handout_revoke", shareId);
    await h.slack.waitFor("views.publish");
    expect((await ledgerRecord(shareId))?.state).toBe("revoked");
    expect(h.slack.callsTo("chat.update").filter((call) => call.args.ts === ts)).toEqual([]);
  });

  it("says the files were shared again even when the old message could not be edited", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    h.slack.failNext("chat.update", { error: "message_not_found" });
    const { view } = await extend("U0ANA", shareId, 7 * DAY);
    expect(await steps.outcome(view)).toContain("Shared again in <#C0GENERAL>");
    expect(h.logs.text()).toContain("could not point the old message to the new links");
  });

  it("announces an announcement again when it is extended, without pinging anyone a second time", async () => {
    const id = await pastShare(HOUR, 12 * HOUR, {
      mode: "announce",
      title: "Board pack",
      announcementText: "Read before Thursday.",
    });
    h.slack.reset();
    const { view } = await extend("U0ANA", id, 7 * DAY);
    expect(await steps.outcome(view)).toContain("Shared again in <#C0GENERAL>");
    const posted = await h.slack.waitFor("chat.postMessage");
    const blocks = posted.args.blocks as Block[];
    expect(blocks[0]).toMatchObject({ type: "header", text: { text: "Board pack" } });
    expect(JSON.stringify(blocks)).toContain("Read before Thursday.");
    expect(JSON.stringify(blocks)).not.toMatch(/<!(channel|here)>/);
    expect(h.slack.callsTo("pins.add")).toEqual([]);
    const newId = new URL(buttonsOf(posted)[0] as string).searchParams.get(SHARE_ID_PARAM) as string;
    expect(await ledgerRecord(newId)).toMatchObject({
      mode: "announce",
      title: "Board pack",
      announcementText: "Read before Thursday.",
      replaces: id,
    });
  });

  it("updates only its own modal, whatever view id the submission names", async () => {
    const { shareId } = await shareAsAna();
    const bobs = await steps.share("U0BOB", "C0GENERAL");
    const before = h.slack.views.get(bobs.view.id);
    h.slack.reset();
    const view = await openExtend("U0ANA", shareId);
    await submitExtend("U0ANA", { ...view, id: bobs.view.id }, 7 * DAY);
    expect(await steps.outcome(view)).toContain("Shared again in <#C0GENERAL>");
    expect(h.slack.views.get(bobs.view.id)).toEqual(before);
  });

  it("answers an extension beyond the policy's maximum next to the field, and posts nothing", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    const { ack } = await extend("U0ANA", shareId, 60 * DAY);
    expect(ack.body).toEqual({
      response_action: "errors",
      errors: { expiry: "Links to these files can last at most 30 days. Choose an earlier time." },
    });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect((await ledgerRecord(shareId))?.replacedBy).toBeUndefined();
  });

  it("refuses an extension from another person", async () => {
    const { shareId } = await shareAsAna();
    h.slack.reset();
    await click("U0BOB", "handout_extend", shareId);
    const viewId = await openedViewId(await h.slack.waitFor("views.open"));
    const filled = await h.slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    expect(JSON.stringify(filled.args.view)).toContain("Only the person who shared these files, or an admin");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("says Handout has no record of a share the ledger does not hold, rather than that it went wrong", async () => {
    await shareAsAna();
    h.slack.reset();
    await click("U0ANA", "handout_extend", newShareId());
    const viewId = await openedViewId(await h.slack.waitFor("views.open"));
    const filled = await h.slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    const view = JSON.stringify(filled.args.view);
    expect(view).toContain("Handout has no record of that share.");
    expect(view).not.toContain("went wrong");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});

describe("expiry", () => {
  it("edits an expired share's message, offers Share again, and records it", async () => {
    const { shareId, ts } = await shareAsAna({ at: Math.floor(h.clock.now().getTime() / 1000) + 2 });
    h.slack.reset();
    await h.handout.expiry?.runNow();
    expect((await ledgerRecord(shareId))?.state).toBe("active");
    h.clock.advance(3000);
    expect(await h.handout.expiry?.runNow()).toBeGreaterThanOrEqual(1);
    const update = await h.slack.waitFor("chat.update", (call) => call.args.ts === ts);
    const text = JSON.stringify(update.args.blocks);
    expect(text).toContain("expired");
    expect(text).toContain("handout_share_again");
    expect(text).not.toContain("https://");
    expect((await ledgerRecord(shareId))?.state).toBe("expired");
  });
});

describe("announcement reminders", () => {
  const announcement = (ageMs: number, leftMs: number) =>
    pastShare(ageMs, leftMs, { mode: "announce", title: "Board pack" });

  it("tells the sharer once, directly, a day before the links stop opening, with Extend", async () => {
    const due = await announcement(6 * 24 * HOUR, 12 * HOUR);
    const shortLived = await announcement(60_000, HOUR);
    const notYet = await announcement(60_000, 3 * 24 * HOUR);
    h.slack.reset();
    await h.handout.expiry?.runNow();

    const [reminder, ...more] = h.slack.callsTo("chat.postMessage");
    expect(more).toEqual([]);
    expect(reminder?.args.channel).toBe("U0ANA");
    expect(String(reminder?.args.text)).toContain(
      "Your announcement “Board pack” in <#C0GENERAL> stops opening <!date^",
    );
    const button = ((reminder?.args.blocks ?? []) as Block[]).find(
      (b) => b.accessory?.action_id === "handout_extend",
    );
    expect(button?.accessory?.value).toBe(due);
    expect((await ledgerRecord(due))?.expiryNotified).toBe(true);
    expect((await ledgerRecord(shortLived))?.expiryNotified).toBe(true);
    expect((await ledgerRecord(notYet))?.expiryNotified).toBe(false);

    await h.handout.expiry?.runNow();
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(1);

    // Extend, from the direct message, opens the dialog for the sharer.
    const { response } = await answered(reminder as SlackCall);
    const dm = (response.body as { channel: string; ts: string }).channel;
    await h.requests.interaction(
      h.requests.blockActions({
        user: "U0ANA",
        actions: [{ action_id: "handout_extend", type: "button", value: due }],
        channel: dm,
        message: { ts: (response.body as { ts: string }).ts },
      }),
    );
    const viewId = await openedViewId(await h.slack.waitFor("views.open"));
    const filled = await h.slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    expect(JSON.stringify(filled.args.view)).toContain("expiry_input");
  });
});

describe("handout audit", () => {
  const audit = (...args: string[]) =>
    runHandout(["audit", ...args], { HANDOUT_LEDGER: `sqlite:${h.dir}/handout.db` }, h.dir).then(
      ({ code, stdout, stderr }) => ({ code, out: stdout, err: stderr }),
    );

  it("exports shares, revocations and extensions as JSON and CSV, filtered by person and time", async () => {
    const older = await pastShare(2 * 24 * HOUR, 5 * 24 * HOUR);
    const { shareId } = await shareAsAna();
    await click("U0ANA", "handout_revoke", shareId);
    await h.slack.waitFor("chat.update");
    const json = await audit("--format", "json", "--since", "1h");
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as Record<string, string>[];
    expect(rows.find((r) => r.id === shareId)).toMatchObject({
      sharer: "U0ANA",
      state: "revoked",
      revoked_by: "U0ANA",
      files: "reports/q1 2026.pdf",
      channel: "C0GENERAL",
    });
    expect(rows.some((r) => r.replaced_by !== "")).toBe(true);
    expect(rows.map((r) => r.created_at)).toEqual([...rows.map((r) => r.created_at)].sort().reverse());

    const csv = await audit("--user", "U0BOB");
    expect(csv.out.split("\n")[0]).toBe(
      "id,created_at,sharer,state,mode,channel,expires_at,files,revoked_by,revoked_at,replaces,replaced_by,access,opens",
    );
    expect(csv.out).not.toContain("U0ANA,");
    const everything = await audit();
    // Without --since, everything: the last hour's shares and the one from two days ago.
    const everyId = everything.out
      .split("\n")
      .slice(1)
      .filter(Boolean)
      // A cell that could start a spreadsheet formula (an id may start with "-") is quoted with '.
      .map((line) => line.split(",")[0]?.replace(/^'/, ""));
    expect(everyId).toEqual(expect.arrayContaining([...rows.map((r) => r.id), older]));
    expect(rows.map((r) => r.id)).not.toContain(older);
    expect((await audit("--since", "0m")).code).toBe(2);
    expect((await audit("--format", "xml")).code).toBe(2);
  });
});
