import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { type RunningHandout, startHandout } from "../../src/app/server.js";
import { handoutEnv, writeKeyAndPolicy } from "./handout-env.js";
import { makeKeyPair, type TestKeyPair } from "./keys.js";
import { captureLogs } from "./log.js";
import { startTestBucket, type TestBucket } from "./s3.js";
import { type SlackCall, type SlackDouble, startSlackDouble } from "./slack-double.js";
import { type SlackRequests, slackRequests } from "./slack-requests.js";
import { tempFolder } from "./temp.js";

/**
 * Handout end to end, as Slack and AWS see it: the real app over HTTP with signed requests, the Slack
 * double on loopback, s3rver as the bucket, a SQLite ledger in a temp folder. One per test file.
 */
export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const DOMAIN = "d111111abcdef8.cloudfront.net";
export const DAY = 86_400;

/** A 1,024-byte key, in segments s3rver can store as folders. */
export const LONG_KEY = (() => {
  const head = `reports/${Array.from({ length: 6 }, (_, i) => `${"long-folder-name-".repeat(8)}${i}`).join("/")}/`;
  return `${head}${"n".repeat(1024 - Buffer.byteLength(head) - 4)}.pdf`;
})();

export const POLICY = `
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

export const FILES = [
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
    (_, i) => `reports/batch/${"Quarterly revenue and expenditure report for the board ".repeat(2)}${i}.pdf`,
  ),
];

/** The parts of Block Kit blocks these tests look at. */
export interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  accessory?: { type: string; url?: string; action_id?: string; value?: string };
  elements?: { type: string; action_id?: string; value?: string }[];
  element?: {
    initial_options?: unknown;
    default_to_current_conversation?: boolean;
    options?: { value: string }[];
    initial_option?: { value: string };
  };
}

export type View = { id: string; private_metadata: string; blocks: Block[]; submit?: unknown };

export interface Choice {
  files: string[];
  expirySeconds?: number;
  at?: number;
  channel?: string;
  how?: string;
  title?: string;
  /** "Who can open", as the payload claims it; left out of the payload when absent. */
  open?: string;
  notifyOpens?: boolean;
}

/** The clock Handout is handed: the real time, moved on by `advance` so that tests need not wait. */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
  reset(): void;
}

function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance: (ms) => {
      offsetMs += ms;
    },
    reset: () => {
      offsetMs = 0;
    },
  };
}

export interface Harness {
  readonly clock: TestClock;
  readonly bucket: TestBucket;
  readonly slack: SlackDouble;
  readonly pair: TestKeyPair;
  readonly handout: RunningHandout;
  readonly requests: SlackRequests;
  readonly logs: ReturnType<typeof captureLogs>;
  readonly dir: string;
  /** The environment Handout was started with, for starting another process like it. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * `extraEnv` adds to the environment Handout starts with (a key set to undefined is left out);
 * `prepare` runs on the Slack double before Handout starts.
 */
export async function startHarness(
  extraEnv: Record<string, string | undefined> = {},
  prepare?: (slack: SlackDouble) => void | Promise<void>,
): Promise<Harness> {
  const bucket = await startTestBucket();
  await Promise.all(FILES.map((key) => bucket.put(key)));

  const slack = await startSlackDouble();
  const { users, usergroups, channels } = slack.workspace;
  users.set("U0ANA", { id: "U0ANA", name: "ana" });
  users.set("U0BOB", { id: "U0BOB", name: "bob" });
  users.set("U0GUEST", { id: "U0GUEST", name: "guest", is_restricted: true });
  users.set("U0DAN", { id: "U0DAN", name: "dan" });
  users.set("U0EVE", { id: "U0EVE", name: "eve" });
  users.set("U0ADMIN", { id: "U0ADMIN", name: "admin" });
  users.set("U0OTHERORG", { id: "U0OTHERORG", name: "partner", team_id: "T0PARTNER" });
  usergroups.set("S0FIN", { id: "S0FIN", handle: "finance", name: "Finance", users: ["U0ANA"] });
  usergroups.set("S0AUD", { id: "S0AUD", handle: "auditors", name: "Auditors", users: ["U0DAN"] });
  channels.set("C0GENERAL", {
    id: "C0GENERAL",
    name: "general",
    members: ["U0ANA", "U0BOB", "U0GUEST", "U0ADMIN", "UBOT"],
  });
  channels.set("C0QUIET", { id: "C0QUIET", name: "quiet", members: ["U0ANA"] });
  channels.set("C0EXT", { id: "C0EXT", name: "partners", is_ext_shared: true, members: ["U0ANA", "UBOT"] });
  await prepare?.(slack);

  const pair = makeKeyPair();
  const dir = await tempFolder("flow");
  const { key, policyFile } = await writeKeyAndPolicy(dir, pair, POLICY);

  // The AWS SDK reads its endpoint and credentials from the process environment.
  Object.assign(process.env, bucket.env);
  const logs = captureLogs(extraEnv.LOG_LEVEL ?? "info");
  const given = handoutEnv(
    {
      bucket,
      slack,
      signingSecret: SIGNING_SECRET,
      key,
      policyFile,
      ledgerFile: join(dir, "handout.db"),
      domain: DOMAIN,
    },
    { PORT: "0", ...extraEnv },
  );
  const clock = testClock();
  let handout: RunningHandout;
  try {
    handout = await startHandout(given, logs.logger, { now: clock.now });
  } catch (error) {
    await slack.stop();
    await bucket.stop();
    throw error;
  }
  const requests = slackRequests({
    baseUrl: `http://127.0.0.1:${handout.port}`,
    signingSecret: SIGNING_SECRET,
    responseUrl: (id) => slack.responseUrl(id),
  });
  await handout.index.refresh();
  return {
    clock,
    bucket,
    slack,
    pair,
    handout,
    requests,
    logs,
    dir,
    env: given,
    async stop() {
      await handout.stop();
      await slack.stop();
      await bucket.stop();
    },
  };
}

/** The double records a call before it answers it; some tests need the answer. */
export async function answered(
  call: SlackCall,
): Promise<SlackCall & { response: NonNullable<SlackCall["response"]> }> {
  for (let i = 0; i < 200 && !call.response; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!call.response) throw new Error(`the double never answered ${call.method}`);
  return call as SlackCall & { response: NonNullable<SlackCall["response"]> };
}

export const openedViewId = async (call: SlackCall): Promise<string> =>
  ((await answered(call)).response.body as { view: { id: string } }).view.id;

export const block = (view: View, id: string) => view.blocks.find((b) => b.block_id === id);
export const viewText = (call: SlackCall) => JSON.stringify((call.args.view as View).blocks);

export const buttonsOf = (call: SlackCall) =>
  (call.args.blocks as Block[])
    .filter((b) => b.accessory?.type === "button" && b.accessory.url)
    .map((b) => b.accessory?.url as string);

/**
 * The modal a views.open call led to, as the person sees it once ready: opened with the form at once
 * for a person the directory already knows, or as a placeholder that an update then fills in.
 */
export async function filledView(h: Harness, opened: SlackCall): Promise<{ view: View }> {
  const viewId = await openedViewId(opened);
  const first = opened.args.view as View;
  const ready = JSON.stringify(first.blocks).includes(":hourglass_flowing_sand:")
    ? ((await h.slack.waitFor("views.update", (call) => call.args.view_id === viewId)).args.view as View)
    : first;
  return { view: { ...ready, id: viewId } };
}

/** The Slack-facing steps a test takes, bound to one harness. */
export function flow(h: Harness) {
  const { slack, requests } = h;

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
    const opened = await slack.waitFor("views.open", (call) => slack.calls.indexOf(call) >= since);
    return { ...(await filledView(h, opened)), responseUrlId };
  }

  function submission(view: View, user: string, choice: Choice, metadata = view.private_metadata) {
    const value = (v: string) => ({ text: { type: "plain_text", text: v }, value: v });
    return requests.viewSubmission({
      user,
      view: {
        id: view.id,
        external_id: slack.views.get(view.id)?.external_id ?? "",
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
            ...(choice.open === undefined
              ? {}
              : { open: { open_input: { type: "radio_buttons", selected_option: value(choice.open) } } }),
            ...(choice.notifyOpens === undefined
              ? {}
              : {
                  notify_opens: {
                    notify_opens_input: {
                      type: "checkboxes",
                      selected_options: choice.notifyOpens ? [value("notify")] : [],
                    },
                  },
                }),
          },
        },
      },
    });
  }

  const submit = async (view: View, user: string, choice: Choice, metadata?: string) =>
    requests.interaction(submission(view, user, choice, metadata));

  /** The modal's final words after a submission was accepted: neither the form nor the progress note. */
  const outcome = async (view: View) => {
    const externalId = slack.views.get(view.id)?.external_id;
    return viewText(
      await slack.waitFor("views.update", (call) => {
        const text = viewText(call);
        const updated = externalId ? call.args.external_id === externalId : call.args.view_id === view.id;
        return updated && !text.includes(":hourglass_flowing_sand:") && !text.includes('"type":"input"');
      }),
    );
  };

  /** Extend, clicked in App Home; resolves with the extend modal once Handout has filled it in. */
  async function openExtend(user: string, shareId: string): Promise<View> {
    const since = slack.calls.length;
    await requests.interaction(
      requests.blockActions({
        user,
        actions: [{ action_id: "handout_extend", type: "button", value: shareId }],
        view: { type: "home" },
      }),
    );
    const opened = await slack.waitFor("views.open", (call) => slack.calls.indexOf(call) >= since);
    const viewId = await openedViewId(opened);
    const filled = await slack.waitFor("views.update", (call) => call.args.view_id === viewId);
    return { ...(filled.args.view as View), id: viewId };
  }

  /** The extend modal submitted with one of its preset expiries. */
  const submitExtend = (user: string, view: View, expirySeconds: number) =>
    requests.interaction(
      requests.viewSubmission({
        user,
        view: {
          id: view.id,
          callback_id: "handout_extend",
          private_metadata: view.private_metadata,
          state: {
            values: {
              expiry: {
                expiry_input: { type: "static_select", selected_option: { value: String(expirySeconds) } },
              },
              expiry_at: { expiry_at_input: { type: "datetimepicker", selected_date_time: null } },
            },
          },
        },
      }),
    );

  return { share, submission, submit, outcome, openExtend, submitExtend };
}

export type Steps = ReturnType<typeof flow>;

/**
 * One harness for a test file: started before its tests, stopped after them, the double's record of
 * calls and its clock's advances cleared before each. `ready` receives it once started.
 */
export function useHarness(
  ready: (started: { h: Harness; steps: Steps }) => void,
  extraEnv: Record<string, string | undefined> = {},
) {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(extraEnv);
    ready({ h: harness, steps: flow(harness) });
  });
  afterAll(async () => {
    await harness?.stop();
  });
  beforeEach(() => {
    harness?.slack.reset();
    harness?.clock.reset();
  });
}
