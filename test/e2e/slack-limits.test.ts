import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { decodeKeyPath } from "../../src/domain/object-key.js";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { SHARE_ID_PARAM } from "../../src/signing/cloudfront-signer.js";
import { KeyRefs } from "../../src/slack/key-refs.js";
import {
  answered,
  DOMAIN,
  type Harness,
  openedViewId,
  POLICY,
  type Steps,
  useHarness,
  type View,
} from "../support/handout-harness.js";
import { recordPostedShare } from "../support/ledger.js";
import type { SlackCall } from "../support/slack-double.js";

/**
 * Payloads at Slack's limits, end to end: the double refuses what Slack would (text over 3,000
 * characters once escaped, over 50 blocks, over 12,000 characters of blocks), so each test checks
 * that Slack's answer to what Handout sent was `ok`.
 */
let h: Harness;
let steps: Steps;
useHarness((ready) => {
  ({ h, steps } = ready);
});

const accepted = async (call: SlackCall) => {
  const { response } = await answered(call);
  expect(response.body, `${call.method} was refused`).toMatchObject({ ok: true });
};

/**
 * Ten keys of about `bytes` bytes, `&`-heavy (each `&` is five characters in mrkdwn, three in a URL), in
 * segments s3rver can store (it adds 15 characters to a file's name, and a name is at most 255).
 */
function longKeys(tag: string, bytes: number): string[] {
  return Array.from({ length: 10 }, (_, i) => {
    let path = `reports/${tag}-${i}/`;
    while (bytes - path.length > 200) path += `${"a&".repeat(40)}/`;
    return `${path}${"&".repeat(Math.max(0, bytes - path.length - 14))}report ${i}.pdf`;
  });
}

async function putAndIndex(keys: readonly string[]) {
  // s3rver's delimited listing skips a folder that holds only folders (S3's does not): give each a file.
  const folders = new Set(
    keys.flatMap((key) =>
      key
        .split("/")
        .slice(1, -1)
        .map((_, i, all) => `reports/${all.slice(0, i + 1).join("/")}/readme.txt`),
    ),
  );
  await Promise.all([...keys, ...folders].map((key) => h.bucket.put(key)));
  await h.handout.index.refresh();
}

let users = 0;
/** Someone the directory has never looked up, so the modal opens as a placeholder first. */
function newPerson(): string {
  const id = `U0NEW${++users}`;
  h.slack.workspace.users.set(id, { id, name: `new${users}` });
  h.slack.workspace.channels.get("C0GENERAL")?.members.push(id);
  return id;
}

const urlsIn = (blocks: unknown): string[] =>
  [...JSON.stringify(blocks).matchAll(/"url":"(https:\/\/[^"]+)"/g)].map((m) => m[1] as string);

/** Shares ten keys as Ana in #general; every message Slack took for it, and the share's id. */
async function shareTen(keys: readonly string[]) {
  const refs = new KeyRefs(h.handout.index);
  const { view } = await steps.share("U0ANA", "C0GENERAL");
  h.slack.reset();
  const ack = await steps.submit(view, "U0ANA", { files: keys.map((key) => refs.toValue(key)) });
  expect(ack.body).toMatchObject({ response_action: "update" });
  expect(await steps.outcome(view)).toContain("Shared 10 files in <#C0GENERAL>");
  const posts = h.slack.callsTo("chat.postMessage");
  for (const post of posts) await accepted(post);
  const urls = posts.flatMap((post) => urlsIn(post.args.blocks)).filter((url) => url.includes(DOMAIN));
  const shareId = new URL(urls[0] as string).searchParams.get(SHARE_ID_PARAM) as string;
  return { posts, urls, shareId };
}

async function ledgerRecord(id: string) {
  const ledger = await openSqliteLedger(`${h.dir}/handout.db`);
  try {
    return await ledger.get(id);
  } finally {
    await ledger.close();
  }
}

const click = (user: string, actionId: string, value: string) =>
  h.requests.interaction(
    h.requests.blockActions({
      user,
      actions: [{ action_id: actionId, type: "button", value }],
      view: { type: "home" },
    }),
  );

describe("the share modal, whatever was typed", () => {
  for (const [what, query] of [
    ["a 3,000-character query", "quarterly ".repeat(300)],
    ["600 '&'", "&".repeat(600)],
  ] as const) {
    it(`opens the form for ${what}, for a person looked up first and for one already known`, async () => {
      const person = newPerson();
      const first = await steps.share(person, "C0GENERAL", query);
      const filled = h.slack.callsTo("views.update").at(-1) as SlackCall;
      await accepted(filled);
      expect(JSON.stringify(first.view.blocks)).toContain('"type":"input"');

      h.slack.reset();
      const again = await steps.share(person, "C0GENERAL", query);
      await accepted(h.slack.callsTo("views.open")[0] as SlackCall);
      expect(JSON.stringify(again.view.blocks)).toContain("No file you may share matches");
      expect(h.slack.calls.filter((call) => call.method.startsWith("response_url:"))).toHaveLength(0);
    });
  }

  it("says what Slack answered when views.open fails, not that it took too long", async () => {
    for (const [error, said] of [
      ["invalid_arguments", "Slack refused the share dialog Handout sent, so trying again will not help"],
      ["fatal_error", "Slack could not open the share dialog just now. Type /share again in a minute."],
      ["expired_trigger_id", "Slack took too long to open the share dialog. Type /share again."],
    ] as const) {
      h.slack.failNext("views.open", { error });
      const responseUrlId = `failed-open-${error}`;
      await h.requests.command({
        user_id: "U0ANA",
        channel_id: "C0GENERAL",
        text: "q1",
        response_url: h.slack.responseUrl(responseUrlId),
      });
      const reply = await h.slack.waitFor(`response_url:${responseUrlId}`);
      expect(reply.args.text).toContain(said);
    }
  });

  it("does not leave a person on “Finding the files…” when Slack refuses the form", async () => {
    const person = newPerson();
    h.slack.failNext("views.update", { error: "invalid_arguments" });
    await h.requests.command({ user_id: person, channel_id: "C0GENERAL", text: "" });
    const viewId = await openedViewId(await h.slack.waitFor("views.open"));
    const explained = await h.slack.waitFor(
      "views.update",
      (call) => call.args.view_id === viewId && JSON.stringify(call.args.view).includes("Slack refused"),
    );
    await accepted(explained);
  });

  it("tells a person without access whom to ask, however long the policy's contact is", async () => {
    const contact = `Write to <it-help> & ${"ask & wait; ".repeat(250)}`;
    await writeFile(
      join(h.dir, "access.yml"),
      POLICY.replace(/^contact: .*$/m, `contact: ${JSON.stringify(contact)}`),
    );
    try {
      expect((await h.handout.reloadPolicy()).ok).toBe(true);
      await steps.share("U0GUEST", "C0GENERAL");
      const shown = h.slack.calls.filter(
        (call) => call.method === "views.open" || call.method === "views.update",
      );
      for (const call of shown) await accepted(call);
      expect(JSON.stringify(shown.at(-1)?.args.view)).toContain(
        "To get access: Write to &lt;it-help&gt; &amp;",
      );
    } finally {
      await writeFile(join(h.dir, "access.yml"), POLICY);
      await h.handout.reloadPolicy();
    }
  });
});

describe("shares of ten files with long keys", () => {
  for (const [what, bytes] of [
    ["about 300 bytes (signed URLs of about 520 characters)", 300],
    ["about 1,000 bytes, '&'-heavy", 1000],
  ] as const) {
    it(`posts every link to keys of ${what} within Slack's message limits, and revoke edits every message`, async () => {
      const keys = longKeys(`ten${bytes}`, bytes);
      await putAndIndex(keys);
      const { posts, urls, shareId } = await shareTen(keys);

      // Every link is there once, and opens the file it names.
      const keyPairs = new Map([[h.pair.keyPairId, h.pair.publicKey]]);
      expect(urls.map((url) => decodeKeyPath(new URL(url).pathname.slice(1))).sort()).toEqual(
        [...keys].sort(),
      );
      for (const url of urls) expect(verifySignedUrl(url, keyPairs, new Date()).ok).toBe(true);
      const record = await ledgerRecord(shareId);
      expect(record?.message?.followUps ?? []).toHaveLength(posts.length - 1);

      h.slack.reset();
      await click("U0ANA", "handout_revoke", shareId);
      await h.slack.waitFor("views.publish");
      const edits = h.slack.callsTo("chat.update");
      expect(edits).toHaveLength(posts.length);
      for (const edit of edits) await accepted(edit);
      const timestamps = [record?.message?.ts, ...(record?.message?.followUps ?? [])];
      const messages = h.slack.messages.filter((message) => timestamps.includes(message.ts));
      expect(messages).toHaveLength(posts.length);
      for (const message of messages) expect(JSON.stringify(message.blocks)).not.toContain(DOMAIN);
    });
  }

  it("answers through the response URL in the five replies Slack takes at most, where Handout is not a member", async () => {
    // Keys as long as S3 allows, '&'-heavy: the most a share's links can weigh.
    const keys = longKeys("reply", 1024);
    expect(keys.every((key) => Buffer.byteLength(key) >= 1020 && Buffer.byteLength(key) <= 1024)).toBe(true);
    await putAndIndex(keys);
    const refs = new KeyRefs(h.handout.index);
    const { view, responseUrlId } = await steps.share("U0ANA", "C0QUIET");
    h.slack.reset();
    await steps.submit(view, "U0ANA", { files: keys.map((key) => refs.toValue(key)), channel: "C0QUIET" });
    expect(await steps.outcome(view)).toContain("Shared 10 files in <#C0QUIET>");
    const replies = h.slack.callsTo(`response_url:${responseUrlId}`);
    expect(replies.length).toBeGreaterThan(1);
    expect(replies.length).toBeLessThanOrEqual(5);
    for (const reply of replies) expect((await answered(reply)).response.status).toBe(200);
    const urls = replies.flatMap((reply) => urlsIn(reply.args.blocks)).filter((url) => url.includes(DOMAIN));
    expect(urls).toHaveLength(10);
  });

  it("says the first part was posted when Slack refuses a later one", async () => {
    const keys = longKeys("partly", 1000);
    await putAndIndex(keys);
    const refs = new KeyRefs(h.handout.index);
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    h.slack.reset();
    let posts = 0;
    h.slack.respond("chat.postMessage", (_call, fallback) =>
      ++posts === 2 ? { ok: false, error: "rate_limited" } : fallback(),
    );
    await steps.submit(view, "U0ANA", { files: keys.map((key) => refs.toValue(key)) });
    const text = await steps.outcome(view);
    expect(text).toContain("Slack showed the first part of the message but refused the rest (rate_limited)");
    expect(text).toContain("Only part of it was shared.");
    expect(text).not.toMatch(/nothing was (posted|shared)/i);
    // The part shown is a live share: App Home lists it, and revoke and expiry edit its message.
    const [first] = h.slack.callsTo("chat.postMessage");
    const { response } = await answered(first as SlackCall);
    const url = urlsIn((first as SlackCall).args.blocks).find((link) => link.includes(DOMAIN)) as string;
    const record = await ledgerRecord(new URL(url).searchParams.get(SHARE_ID_PARAM) as string);
    expect(record).toMatchObject({
      state: "active",
      message: { channelId: "C0GENERAL", ts: (response.body as { ts: string }).ts, via: "message" },
    });
  });

  it("opens the extend modal for ten '&'-heavy names", async () => {
    const keys = longKeys("extend", 600);
    await putAndIndex(keys);
    // Recorded as posted, so that only the extend modal is on trial.
    const shareId = newShareId();
    await recordPostedShare(
      `${h.dir}/handout.db`,
      {
        id: shareId,
        sharerId: "U0ANA",
        keys,
        channelId: "C0GENERAL",
        mode: "post",
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 86_400_000),
      },
      { channelId: "C0GENERAL", ts: "1893456000.000200", via: "message", pinned: false },
    );
    h.slack.reset();
    await click("U0ANA", "handout_extend", shareId);
    const viewId = await openedViewId(await h.slack.waitFor("views.open"));
    const filled = await h.slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    await accepted(filled);
    expect(JSON.stringify((filled.args.view as View).blocks)).toContain("New links to these files");
  });

  it("says which files left the bucket, within Slack's limits, however many and however long", async () => {
    const keys = longKeys("gone", 1000);
    await putAndIndex(keys);
    const refs = new KeyRefs(h.handout.index);
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const values = keys.map((key) => refs.toValue(key));
    await Promise.all(
      keys.map((key) => h.bucket.client.send(new DeleteObjectCommand({ Bucket: h.bucket.name, Key: key }))),
    );
    h.slack.reset();
    await steps.submit(view, "U0ANA", { files: values });
    const text = await steps.outcome(view);
    await accepted(h.slack.callsTo("views.update").at(-1) as SlackCall);
    expect(text).toContain("and 7 more are no longer in the bucket");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});
