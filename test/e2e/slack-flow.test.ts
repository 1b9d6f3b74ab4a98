import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it, vi } from "vitest";
import { decodeKeyPath } from "../../src/domain/object-key.js";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import {
  type Block,
  block,
  buttonsOf,
  DAY,
  DOMAIN,
  filledView,
  type Harness,
  LONG_KEY,
  type Steps,
  useHarness,
  type View,
} from "../support/handout-harness.js";
import type { SlackCall } from "../support/slack-double.js";

let h: Harness;
let steps: Steps;
useHarness((ready) => {
  ({ h, steps } = ready);
});

const share = (...args: Parameters<Steps["share"]>) => steps.share(...args);
const submit = (...args: Parameters<Steps["submit"]>) => steps.submit(...args);
const submission = (...args: Parameters<Steps["submission"]>) => steps.submission(...args);
const outcome = (view: View) => steps.outcome(view);

describe("the share flow over HTTP", () => {
  it("answers /healthz", async () => {
    const response = await fetch(`http://127.0.0.1:${h.handout.port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, index: { complete: true } });
  });

  it("explains usage for /share help without opening anything", async () => {
    const ack = await h.requests.command({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "help" });
    expect(ack.body).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining("/share report"),
    });
    expect(h.slack.callsTo("views.open")).toHaveLength(0);
  });

  it("goes from /share to a posted message whose links are valid signed URLs for the chosen keys and expiry", async () => {
    const { view } = await share("U0ANA", "C0GENERAL", "q2.pdf");
    // Opened before any directory call, then filled in.
    const opened = h.slack.callsTo("views.open")[0] as SlackCall;
    const firstDirectoryCall = h.slack.calls.findIndex(
      (c) => c.method.startsWith("users.") || c.method.startsWith("usergroups."),
    );
    expect(h.slack.calls.indexOf(opened)).toBeLessThan(firstDirectoryCall);
    expect(block(view, "files")?.element?.initial_options).toEqual([
      expect.objectContaining({
        value: "k:reports/2026/q2.pdf",
        text: expect.objectContaining({ text: "q2.pdf" }),
      }),
    ]);
    expect(block(view, "destination")?.element?.default_to_current_conversation).toBe(true);
    const presets = (block(view, "expiry")?.element?.options ?? []).map((o) => Number(o.value));
    expect(Math.max(...presets)).toBe(30 * DAY);
    expect(block(view, "expiry")?.element?.initial_option?.value).toBe(String(7 * DAY));

    const suggestions = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "Q1",
        view,
      }),
    );
    const values = (suggestions.body as { options: { value: string; text: { text: string } }[] }).options.map(
      (o) => o.value,
    );
    expect(values).toEqual(["k:reports/q1 2026.pdf"]);

    const before = Date.now();
    const ack = await submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf", "k:reports/2026/q2.pdf"],
      expirySeconds: DAY,
    });
    expect(ack.body).toMatchObject({ response_action: "update" });
    const posted = await h.slack.waitFor("chat.postMessage");
    // Form-encoded by the Web API client, as Slack receives it.
    expect(posted.args).toMatchObject({ channel: "C0GENERAL", unfurl_links: "false", unfurl_media: "false" });
    expect(String(posted.args.text)).not.toContain("https://");
    const urls = buttonsOf(posted);
    expect(urls).toHaveLength(2);
    const keys = urls.map((url) => decodeKeyPath(new URL(url).pathname.slice(1)));
    expect(keys).toEqual(["reports/q1 2026.pdf", "reports/2026/q2.pdf"]);
    for (const url of urls) {
      expect(url.startsWith(`https://${DOMAIN}/`)).toBe(true);
      const verdict = verifySignedUrl(url, new Map([[h.pair.keyPairId, h.pair.publicKey]]), new Date());
      expect(verdict.ok).toBe(true);
      const expires = Number(new URL(url).searchParams.get("Expires")) * 1000;
      expect(expires).toBeGreaterThanOrEqual(before + DAY * 1000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + DAY * 1000);
    }
    const text = JSON.stringify(posted.args.blocks);
    expect(text).toContain("<@U0ANA> shared 2 files");
    expect(text).toContain("<!date^");
    expect(text).toContain("For Thursday's meeting");
    expect(await outcome(view)).toContain("Shared 2 files in <#C0GENERAL>");
    expect(h.logs.text()).not.toMatch(/Signature=[A-Za-z0-9~_-]{20}/);
  });

  it("opens the form at once, in one call, for a person the directory already knows", async () => {
    await share("U0ANA", "C0GENERAL");
    h.slack.reset();
    const { view } = await share("U0ANA", "C0GENERAL", "q2.pdf");
    expect(block(view, "files")?.element?.initial_options).toEqual([
      expect.objectContaining({ value: "k:reports/2026/q2.pdf" }),
    ]);
    expect(h.slack.callsTo("views.open")).toHaveLength(1);
    expect(h.slack.callsTo("views.update")).toHaveLength(0);
  });

  it("opens the same modal from the global shortcut, with the destination to choose", async () => {
    await h.requests.interaction(
      h.requests.globalShortcut({ user: "U0ANA", callback_id: "handout_share_shortcut" }),
    );
    const { view } = await filledView(h, await h.slack.waitFor("views.open"));
    expect(block(view, "files")).toBeDefined();
    expect(block(view, "destination")?.element?.default_to_current_conversation).toBeUndefined();
  });
});

describe("forged and tampered input", () => {
  it("rejects a request with a bad signature, and does nothing", async () => {
    const body = h.requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "" });
    const response = await h.requests.rawPost(body, {
      ...h.requests.sign(body),
      "x-slack-signature": "v0=deadbeef",
    });
    expect(response.status).toBe(401);
    const stale = await h.requests.rawPost(body, h.requests.sign(body, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.slack.calls).toHaveLength(0);
  });

  it("refuses a key outside the person's prefixes injected into the submission", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    for (const forged of [
      "k:hr/salaries.xlsx",
      "k:reports-secret/plan.pdf",
      "k:reports/../hr/salaries.xlsx",
    ]) {
      const ack = await submit(view, "U0ANA", { files: [forged] });
      expect(ack.body, forged).toMatchObject({
        response_action: "errors",
        errors: { files: expect.any(String) },
      });
    }
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("offers no files for options requested with another person's modal", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    const response = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0BOB",
        action_id: "files_input",
        block_id: "files",
        value: "q1",
        view,
      }),
    );
    expect(response.body).toEqual({ options: [] });
    const own = await share("U0BOB", "C0GENERAL");
    const bobs = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0BOB",
        action_id: "files_input",
        block_id: "files",
        value: "",
        view: own.view,
      }),
    );
    const values = (bobs.body as { options: { value: string }[] }).options.map((o) => o.value);
    expect(values).toEqual(["k:public/handbook/handbook.pdf"]);
  });

  it("refuses a submission whose private_metadata was changed", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    const bytes = Buffer.from(view.private_metadata, "base64url");
    bytes[20] = (bytes[20] as number) ^ 1;
    const changed = bytes.toString("base64url");
    const ack = await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"] }, changed);
    expect(ack.body).toMatchObject({
      response_action: "errors",
      errors: { files: expect.stringContaining("changed outside Slack") },
    });
    const stolen = await submit(view, "U0BOB", { files: ["k:public/handbook/handbook.pdf"] });
    expect(stolen.body).toMatchObject({ response_action: "errors" });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("updates only the modal its seal was made for, whatever view id the submission names", async () => {
    const anas = await share("U0ANA", "C0GENERAL");
    const bobs = await share("U0BOB", "C0GENERAL");
    const before = h.slack.views.get(anas.view.id);
    await submit({ ...bobs.view, id: anas.view.id }, "U0BOB", { files: ["k:public/handbook/handbook.pdf"] });
    expect(await outcome(bobs.view)).toContain("Shared the file in <#C0GENERAL>");
    expect(h.slack.views.get(anas.view.id)).toEqual(before);
  });

  it("answers an expiry beyond the maximum, or in the past, next to the field", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    const tooLong = await submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf"],
      at: Math.floor(Date.now() / 1000) + 31 * DAY,
    });
    expect(tooLong.body).toMatchObject({
      response_action: "errors",
      errors: { expiry_at: "Links to these files can last at most 30 days. Choose an earlier time." },
    });
    const handbook = await submit(view, "U0ANA", {
      files: ["k:public/handbook/handbook.pdf"],
      expirySeconds: 30 * DAY,
    });
    expect(handbook.body).toMatchObject({ errors: { expiry: expect.stringContaining("at most 1 week") } });
    const past = await submit(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf"],
      at: Math.floor(Date.now() / 1000) - 60,
    });
    expect(past.body).toMatchObject({ errors: { expiry_at: expect.stringContaining("passed") } });
    const none = await submit(view, "U0ANA", { files: [] });
    expect(none.body).toMatchObject({ errors: { files: "Choose at least one file." } });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("refuses a person removed from their group well within a minute before they submit", async () => {
    const { view } = await share("U0DAN", "C0GENERAL");
    (h.slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = [];
    // Only the calendar moves: what the directory learnt as the modal opened is now 45 s old, young
    // enough for the form's quick check, too old for the share's own decision.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 45_000);
      const ack = await submit(view, "U0DAN", { files: ["k:reports/q1 2026.pdf"] });
      expect(ack.body).toMatchObject({ response_action: "update" }); // the form's quick check still says yes
      expect(await outcome(view)).toContain("You may not share");
    } finally {
      vi.useRealTimers();
      (h.slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = ["U0DAN"];
    }
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("tells a guest plainly whom to ask, and refuses a guest's forged submission", async () => {
    const { view } = await share("U0GUEST", "C0GENERAL");
    expect(JSON.stringify(view.blocks)).toContain("Ask #it-help for access.");
    expect(view.submit).toBeUndefined();
    const ack = await submit(view, "U0GUEST", { files: ["k:public/handbook/handbook.pdf"] });
    expect(ack.body).toMatchObject({ response_action: "errors" });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("treats a person from another organisation as a guest", async () => {
    const { view } = await share("U0OTHERORG", "C0GENERAL");
    expect(JSON.stringify(view.blocks)).toContain("You can't share files with Handout yet.");
    expect(view.submit).toBeUndefined();
  });

  it("refuses to post for a person into a conversation they are not in", async () => {
    const { view } = await share("U0BOB", "C0GENERAL");
    await submit(view, "U0BOB", { files: ["k:public/handbook/handbook.pdf"], channel: "C0QUIET" });
    expect(await outcome(view)).toContain("You are not in <#C0QUIET>");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("keeps links out of a channel shared with another organisation", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0EXT" });
    expect(await outcome(view)).toContain("shared with another organisation");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});

describe("where it posts, and when Slack or the bucket fail", () => {
  it("answers through the command's response URL where Handout is not a member", async () => {
    const { view, responseUrlId } = await share("U0ANA", "C0QUIET");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    const reply = await h.slack.waitFor(`response_url:${responseUrlId}`);
    expect(reply.args).toMatchObject({ response_type: "in_channel", unfurl_links: false });
    expect(buttonsOf(reply)).toHaveLength(1);
    expect(await outcome(view)).toContain("Shared the file in <#C0QUIET>");
  });

  it("says how to invite Handout when it cannot post elsewhere", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    expect(await outcome(view)).toContain("/invite @Handout");
  });

  it("retries a rate-limited post after the time Slack asks for", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    h.slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"] });
    expect(await outcome(view)).toContain("Shared the file");
    const attempts = h.slack.callsTo("chat.postMessage");
    expect(attempts).toHaveLength(2);
    expect((attempts[1] as SlackCall).at - (attempts[0] as SlackCall).at).toBeGreaterThanOrEqual(900);
  });

  it("explains a Slack directory outage, and stays up", async () => {
    h.slack.respond("users.info", () => ({ body: { ok: false, error: "fatal_error" } }));
    const { view } = await share("U0EVE", "C0GENERAL");
    expect(JSON.stringify(view.blocks)).toContain("Slack did not tell Handout who you are (fatal_error)");
    h.slack.reset();
    expect((await fetch(`http://127.0.0.1:${h.handout.port}/healthz`)).status).toBe(200);
  });

  it("says a file is gone when it left the bucket after it was offered", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await h.bucket.client.send(
      new DeleteObjectCommand({ Bucket: h.bucket.name, Key: "reports/2026/q2 draft.pdf" }),
    );
    await submit(view, "U0ANA", { files: ["k:reports/2026/q2 draft.pdf"] });
    expect(await outcome(view)).toContain("is no longer in the bucket");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("shows links only to the person when asked", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], how: "ephemeral" });
    const ephemeral = await h.slack.waitFor("chat.postEphemeral");
    expect(ephemeral.args).toMatchObject({ channel: "C0GENERAL", user: "U0ANA" });
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("posts and pins an announcement with a header and the mention", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    const form = submission(view, "U0ANA", {
      files: ["k:reports/q1 2026.pdf"],
      how: "announce",
      title: "Q1 results",
    }) as { view: { state: { values: Record<string, unknown> } } };
    form.view.state.values.message = {
      message_input: { type: "plain_text_input", value: "Read before Friday." },
    };
    form.view.state.values.mention = {
      mention_input: { type: "static_select", selected_option: { value: "here" } },
    };
    form.view.state.values.pin = { pin_input: { type: "checkboxes", selected_options: [{ value: "pin" }] } };
    await h.requests.interaction(form);
    const posted = await h.slack.waitFor("chat.postMessage");
    const blocks = posted.args.blocks as Block[];
    expect(blocks[0]).toMatchObject({ type: "header", text: { text: "Q1 results" } });
    expect(blocks[1]?.text?.text).toBe("<!here> Read before Friday.");
    await h.slack.waitFor("pins.add");
    expect(await outcome(view)).toContain("Announced the file in <#C0GENERAL>");
  });

  it("refuses an announcement from a person the policy does not allow", async () => {
    const { view } = await share("U0BOB", "C0GENERAL");
    expect(JSON.stringify(block(view, "how"))).not.toContain("announce");
    const ack = await submit(view, "U0BOB", {
      files: ["k:public/handbook/handbook.pdf"],
      how: "announce",
      title: "Hi",
    });
    expect(ack.body).toMatchObject({ errors: { how: "You may not post announcements." } });
  });
});

describe("Block Kit limits", () => {
  it("shares ten files with long names, and a 1,024-byte key, within Slack's limits", async () => {
    expect(Buffer.byteLength(LONG_KEY)).toBe(1024);
    const { view } = await share("U0ANA", "C0GENERAL", "quarterly revenue");
    const suggestions = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "quarterly",
        view,
      }),
    );
    const options = (
      suggestions.body as {
        options: { value: string; text: { text: string }; description: { text: string } }[];
      }
    ).options;
    expect(options).toHaveLength(10);
    for (const option of options) {
      expect(option.text.text.length).toBeLessThanOrEqual(75);
      expect(option.text.text).toMatch(/\.pdf$/);
      expect(option.description.text.length).toBeLessThanOrEqual(75);
      expect(option.value.length).toBeLessThanOrEqual(150);
    }
    const long = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "nnnnnnnn",
        view,
      }),
    );
    const longOption = (long.body as { options: { value: string }[] }).options[0] as { value: string };
    expect(longOption.value).toMatch(/^p:/);
    expect(longOption.value.length).toBeLessThanOrEqual(150);

    await submit(view, "U0ANA", { files: options.map((o) => o.value) });
    const posted = await h.slack.waitFor("chat.postMessage");
    const blocks = posted.args.blocks as Block[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(buttonsOf(posted)).toHaveLength(10);
    for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);

    h.slack.reset();
    const again = await share("U0ANA", "C0GENERAL");
    await submit(again.view, "U0ANA", { files: [longOption.value] });
    const longPost = await h.slack.waitFor("chat.postMessage");
    const [url] = buttonsOf(longPost);
    expect(url?.length).toBeLessThanOrEqual(3000);
    expect(decodeKeyPath(new URL(url as string).pathname.slice(1))).toBe(LONG_KEY);
    expect(
      verifySignedUrl(url as string, new Map([[h.pair.keyPairId, h.pair.publicKey]]), new Date()).ok,
    ).toBe(true);
  });
});
