import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifySignedUrl } from "../src/adapters/cloudfront-verify.js";
import { decodeKeyPath } from "../src/domain/object-key.js";
import { type RunningHandout, startHandout } from "../src/server.js";
import { makeKeyPair, type TestKeyPair } from "./support/keys.js";
import { captureLogs } from "./support/log.js";
import { startTestBucket, type TestBucket } from "./support/s3.js";
import { type SlackCall, type SlackDouble, startSlackDouble } from "./support/slack-double.js";
import { type SlackRequests, slackRequests } from "./support/slack-requests.js";

const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOMAIN = "d111111abcdef8.cloudfront.net";
const DAY = 86_400;

/** A 1,024-byte key, in segments s3rver can store as folders. */
const LONG_KEY = (() => {
  const head = `reports/${Array.from({ length: 6 }, (_, i) => `${"long-folder-name-".repeat(8)}${i}`).join("/")}/`;
  return `${head}${"n".repeat(1024 - Buffer.byteLength(head) - 4)}.pdf`;
})();

const POLICY = `
contact: "Ask #it-help for access."
admins: { users: [U0ADMIN] }
rules:
  - name: Finance
    who: { groups: [finance] }
    prefixes: [reports/]
    max_expiry: 30d
    default_expiry: 7d
    announce: true
  - name: Audit
    who: { groups: [auditors] }
    prefixes: [reports/]
    max_expiry: 1d
  - name: Handbook
    who: { everyone: true }
    prefixes: [public/handbook/]
    max_expiry: 7d
`;

let bucket: TestBucket;
let slack: SlackDouble;
let pair: TestKeyPair;
let handout: RunningHandout;
let requests: SlackRequests;
const logs = captureLogs("info");

beforeAll(async () => {
  bucket = await startTestBucket();
  const files = [
    "reports/q1 2026.pdf",
    "reports/2026/q2.pdf",
    "reports/2026/q2 draft.pdf",
    "reports-secret/plan.pdf",
    "hr/salaries.xlsx",
    "public/handbook/handbook.pdf",
    LONG_KEY,
    // s3rver's delimited listing skips a folder that holds only folders (S3's does not): give each one a file.
    ...LONG_KEY.split("/")
      .slice(1, -1)
      .map((_, i, folders) => `reports/${folders.slice(0, i + 1).join("/")}/readme.txt`),
    ...Array.from(
      { length: 10 },
      (_, i) =>
        `reports/batch/${"Quarterly revenue and expenditure report for the board ".repeat(2)}${i}.pdf`,
    ),
  ];
  await Promise.all(files.map((key) => bucket.put(key)));

  slack = await startSlackDouble();
  const { users, usergroups, channels } = slack.workspace;
  users.set("U0ANA", { id: "U0ANA", name: "ana" });
  users.set("U0BOB", { id: "U0BOB", name: "bob" });
  users.set("U0GUEST", { id: "U0GUEST", name: "guest", is_restricted: true });
  users.set("U0DAN", { id: "U0DAN", name: "dan" });
  users.set("U0EVE", { id: "U0EVE", name: "eve" });
  usergroups.set("S0FIN", { id: "S0FIN", handle: "finance", name: "Finance", users: ["U0ANA"] });
  usergroups.set("S0AUD", { id: "S0AUD", handle: "auditors", name: "Auditors", users: ["U0DAN"] });
  channels.set("C0GENERAL", {
    id: "C0GENERAL",
    name: "general",
    members: ["U0ANA", "U0BOB", "U0GUEST", "UBOT"],
  });
  channels.set("C0QUIET", { id: "C0QUIET", name: "quiet", members: ["U0ANA"] });
  channels.set("C0EXT", { id: "C0EXT", name: "partners", is_ext_shared: true, members: ["U0ANA", "UBOT"] });

  pair = makeKeyPair();
  const dir = await mkdtemp(join(tmpdir(), "handout-flow-"));
  await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
  await writeFile(join(dir, "access.yml"), POLICY);

  // The AWS SDK reads its endpoint and credentials from the process environment.
  Object.assign(process.env, bucket.env);
  handout = await startHandout(
    {
      ...bucket.env,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
      CLOUDFRONT_DOMAIN: DOMAIN,
      CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
      CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
      HANDOUT_POLICY_FILE: join(dir, "access.yml"),
    },
    logs.logger,
  );
  requests = slackRequests({
    baseUrl: `http://127.0.0.1:${handout.port}`,
    signingSecret: SIGNING_SECRET,
    responseUrl: (id) => slack.responseUrl(id),
  });
  await handout.index.refresh();
});

afterAll(async () => {
  await handout?.stop();
  await slack?.stop();
  await bucket?.stop();
});

beforeEach(() => {
  slack.reset();
});

/** The double records a call before it answers it; some tests need the answer. */
async function answered(
  call: SlackCall,
): Promise<SlackCall & { response: NonNullable<SlackCall["response"]> }> {
  for (let i = 0; i < 200 && !call.response; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!call.response) throw new Error(`the double never answered ${call.method}`);
  return call as SlackCall & { response: NonNullable<SlackCall["response"]> };
}

const openedViewId = async (call: SlackCall): Promise<string> =>
  ((await answered(call)).response.body as { view: { id: string } }).view.id;

/** The parts of Block Kit blocks these tests look at. */
interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  accessory?: { type: string; url?: string };
  element?: {
    initial_options?: unknown;
    default_to_current_conversation?: boolean;
    options?: { value: string }[];
    initial_option?: { value: string };
  };
}

type View = { id: string; private_metadata: string; blocks: Block[]; submit?: unknown };

/** /share as a person types it; resolves with the modal once Handout has filled it in. */
async function share(
  user: string,
  channel: string,
  text = "",
): Promise<{ view: View; responseUrlId: string }> {
  const responseUrlId = `r-${Math.random().toString(36).slice(2)}`;
  const since = slack.calls.length;
  const ack = await requests.command({
    user_id: user,
    channel_id: channel,
    text,
    response_url: slack.responseUrl(responseUrlId),
  });
  expect(ack.status).toBe(200);
  const viewId = await openedViewId(
    await slack.waitFor("views.open", (call) => slack.calls.indexOf(call) >= since),
  );
  const updated = await slack.waitFor("views.update", (call) => call.args.view_id === viewId);
  return { view: { ...(updated.args.view as View), id: viewId }, responseUrlId };
}

const block = (view: View, id: string) => view.blocks.find((b) => b.block_id === id);
const viewText = (call: SlackCall) => JSON.stringify((call.args.view as View).blocks);

interface Choice {
  files: string[];
  expirySeconds?: number;
  at?: number;
  channel?: string;
  how?: string;
  title?: string;
}

function submission(view: View, user: string, choice: Choice, metadata = view.private_metadata) {
  const value = (v: string) => ({ text: { type: "plain_text", text: v }, value: v });
  return requests.viewSubmission({
    user,
    view: {
      id: view.id,
      callback_id: "handout_share",
      private_metadata: metadata,
      state: {
        values: {
          files: {
            files_input: { type: "multi_external_select", selected_options: choice.files.map(value) },
          },
          expiry: {
            expiry_input: {
              type: "static_select",
              selected_option: value(String(choice.expirySeconds ?? DAY)),
            },
          },
          expiry_at: { expiry_at_input: { type: "datetimepicker", selected_date_time: choice.at ?? null } },
          destination: {
            destination_input: {
              type: "conversations_select",
              selected_conversation: choice.channel ?? "C0GENERAL",
            },
          },
          how: { how_input: { type: "radio_buttons", selected_option: value(choice.how ?? "post") } },
          title: { title_input: { type: "plain_text_input", value: choice.title ?? null } },
          note: { note_input: { type: "plain_text_input", value: "For Thursday's meeting" } },
        },
      },
    },
  });
}

const submit = async (view: View, user: string, choice: Choice, metadata?: string) =>
  requests.interaction(submission(view, user, choice, metadata));

/** The modal's final words after a submission was accepted: neither the form nor the progress note. */
const outcome = async (view: View) =>
  viewText(
    await slack.waitFor("views.update", (call) => {
      const text = viewText(call);
      return call.args.view_id === view.id && !text.includes("Sharing…") && !text.includes('"type":"input"');
    }),
  );

const buttonsOf = (call: SlackCall) =>
  (call.args.blocks as Block[])
    .filter((b) => b.accessory?.type === "button")
    .map((b) => b.accessory?.url as string);

describe("the share flow over HTTP", () => {
  it("answers /healthz", async () => {
    const response = await fetch(`http://127.0.0.1:${handout.port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, index: { complete: true } });
  });

  it("explains usage for /share help without opening anything", async () => {
    const ack = await requests.command({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "help" });
    expect(ack.body).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining("/share report"),
    });
    expect(slack.callsTo("views.open")).toHaveLength(0);
  });

  it("goes from /share to a posted message whose links are valid signed URLs for the chosen keys and expiry", async () => {
    const { view } = await share("U0ANA", "C0GENERAL", "q2.pdf");
    // Opened before any directory call, then filled in.
    const opened = slack.callsTo("views.open")[0] as SlackCall;
    const firstDirectoryCall = slack.calls.findIndex(
      (c) => c.method.startsWith("users.") || c.method.startsWith("usergroups."),
    );
    expect(slack.calls.indexOf(opened)).toBeLessThan(firstDirectoryCall);
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

    const suggestions = await requests.options(
      requests.blockSuggestion({
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
    const posted = await slack.waitFor("chat.postMessage");
    // Form-encoded by the Web API client, as Slack receives it.
    expect(posted.args).toMatchObject({ channel: "C0GENERAL", unfurl_links: "false", unfurl_media: "false" });
    expect(String(posted.args.text)).not.toContain("https://");
    const urls = buttonsOf(posted);
    expect(urls).toHaveLength(2);
    const keys = urls.map((url) => decodeKeyPath(new URL(url).pathname.slice(1)));
    expect(keys).toEqual(["reports/q1 2026.pdf", "reports/2026/q2.pdf"]);
    for (const url of urls) {
      expect(url.startsWith(`https://${DOMAIN}/`)).toBe(true);
      const verdict = verifySignedUrl(url, new Map([[pair.keyPairId, pair.publicKey]]), new Date());
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
    expect(logs.text()).not.toMatch(/Signature=[A-Za-z0-9~_-]{20}/);
  });

  it("opens the same modal from the global shortcut, with the destination to choose", async () => {
    await requests.interaction(
      requests.globalShortcut({ user: "U0ANA", callback_id: "handout_share_shortcut" }),
    );
    const viewId = await openedViewId(await slack.waitFor("views.open"));
    const filled = await slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    const view = filled.args.view as View;
    expect(block(view, "files")).toBeDefined();
    expect(block(view, "destination")?.element?.default_to_current_conversation).toBeUndefined();
  });
});

describe("forged and tampered input", () => {
  it("rejects a request with a bad signature, and does nothing", async () => {
    const body = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "" });
    const response = await requests.rawPost(body, {
      ...requests.sign(body),
      "x-slack-signature": "v0=deadbeef",
    });
    expect(response.status).toBe(401);
    const stale = await requests.rawPost(body, requests.sign(body, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(slack.calls).toHaveLength(0);
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
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("offers no files for options requested with another person's modal", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    const response = await requests.options(
      requests.blockSuggestion({
        user: "U0BOB",
        action_id: "files_input",
        block_id: "files",
        value: "q1",
        view,
      }),
    );
    expect(response.body).toEqual({ options: [] });
    const own = await share("U0BOB", "C0GENERAL");
    const bobs = await requests.options(
      requests.blockSuggestion({
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
    const [body, mac] = view.private_metadata.split(".");
    const state = JSON.parse(Buffer.from(body as string, "base64url").toString());
    const changed = `${Buffer.from(JSON.stringify({ ...state, channelId: "C0QUIET" })).toString("base64url")}.${mac}`;
    const ack = await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"] }, changed);
    expect(ack.body).toMatchObject({
      response_action: "errors",
      errors: { files: expect.stringContaining("changed outside Slack") },
    });
    const stolen = await submit(view, "U0BOB", { files: ["k:public/handbook/handbook.pdf"] });
    expect(stolen.body).toMatchObject({ response_action: "errors" });
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
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
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("refuses a person removed from their group since the modal opened", async () => {
    const { view } = await share("U0DAN", "C0GENERAL");
    (slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = [];
    const ack = await submit(view, "U0DAN", { files: ["k:reports/q1 2026.pdf"] });
    expect(ack.body).toMatchObject({ response_action: "update" }); // the cached directory still says yes
    expect(await outcome(view)).toContain("You may not share");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("tells a guest plainly whom to ask, and refuses a guest's forged submission", async () => {
    const { view } = await share("U0GUEST", "C0GENERAL");
    expect(JSON.stringify(view.blocks)).toContain("Ask #it-help for access.");
    expect(view.submit).toBeUndefined();
    const ack = await submit(view, "U0GUEST", { files: ["k:public/handbook/handbook.pdf"] });
    expect(ack.body).toMatchObject({ response_action: "errors" });
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("keeps links out of a channel shared with another organisation", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0EXT" });
    expect(await outcome(view)).toContain("shared with another organisation");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});

describe("where it posts, and when Slack or the bucket fail", () => {
  it("answers through the command's response URL where Handout is not a member", async () => {
    const { view, responseUrlId } = await share("U0ANA", "C0QUIET");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], channel: "C0QUIET" });
    const reply = await slack.waitFor(`response_url:${responseUrlId}`);
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
    slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"] });
    expect(await outcome(view)).toContain("Shared the file");
    const attempts = slack.callsTo("chat.postMessage");
    expect(attempts).toHaveLength(2);
    expect((attempts[1] as SlackCall).at - (attempts[0] as SlackCall).at).toBeGreaterThanOrEqual(900);
  });

  it("explains a Slack directory outage, and stays up", async () => {
    slack.respond("users.info", () => ({ body: { ok: false, error: "fatal_error" } }));
    const { view } = await share("U0EVE", "C0GENERAL");
    expect(JSON.stringify(view.blocks)).toContain("Slack did not tell Handout who you are (fatal_error)");
    slack.reset();
    expect((await fetch(`http://127.0.0.1:${handout.port}/healthz`)).status).toBe(200);
  });

  it("says a file is gone when it left the bucket after it was offered", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await bucket.client.send(
      new DeleteObjectCommand({ Bucket: bucket.name, Key: "reports/2026/q2 draft.pdf" }),
    );
    await submit(view, "U0ANA", { files: ["k:reports/2026/q2 draft.pdf"] });
    expect(await outcome(view)).toContain("is no longer in the bucket");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("shows links only to the person when asked", async () => {
    const { view } = await share("U0ANA", "C0GENERAL");
    await submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], how: "ephemeral" });
    const ephemeral = await slack.waitFor("chat.postEphemeral");
    expect(ephemeral.args).toMatchObject({ channel: "C0GENERAL", user: "U0ANA" });
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
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
    await requests.interaction(form);
    const posted = await slack.waitFor("chat.postMessage");
    const blocks = posted.args.blocks as Block[];
    expect(blocks[0]).toMatchObject({ type: "header", text: { text: "Q1 results" } });
    expect(blocks[1]?.text?.text).toBe("<!here> Read before Friday.");
    await slack.waitFor("pins.add");
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
    const suggestions = await requests.options(
      requests.blockSuggestion({
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
    const long = await requests.options(
      requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "nnnnnnnn",
        view,
      }),
    );
    const longOption = (long.body as { options: { value: string }[] }).options[0] as { value: string };
    expect(longOption.value).toMatch(/^h:/);
    expect(longOption.value.length).toBeLessThanOrEqual(150);

    await submit(view, "U0ANA", { files: options.map((o) => o.value) });
    const posted = await slack.waitFor("chat.postMessage");
    const blocks = posted.args.blocks as Block[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(buttonsOf(posted)).toHaveLength(10);
    for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);

    slack.reset();
    const again = await share("U0ANA", "C0GENERAL");
    await submit(again.view, "U0ANA", { files: [longOption.value] });
    const longPost = await slack.waitFor("chat.postMessage");
    const [url] = buttonsOf(longPost);
    expect(url?.length).toBeLessThanOrEqual(3000);
    expect(decodeKeyPath(new URL(url as string).pathname.slice(1))).toBe(LONG_KEY);
    expect(verifySignedUrl(url as string, new Map([[pair.keyPairId, pair.publicKey]]), new Date()).ok).toBe(
      true,
    );
  });
});
