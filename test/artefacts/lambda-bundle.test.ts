import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { handoutEnv, writeKeyAndPolicy } from "../support/handout-env.js";
import { makeKeyPair } from "../support/keys.js";
import { recordPostedShare } from "../support/ledger.js";
import { startIdentityProvider } from "../support/oidc.js";
import { childEnv, runProcess } from "../support/process.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { s3Event } from "../support/s3-events.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { type SlackRequests, slackRequests, type ViewInput } from "../support/slack-requests.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUNDLE = join(ROOT, "dist", "lambda", "index.mjs");
const SIGNING_SECRET = "lambda-test-signing-secret";

const POLICY = `
contact: "Ask #it-help for access."
rules:
  - name: Handbook
    who: { everyone: true }
    prefixes: [public/handbook/]
    max_expiry: 7d
`;

const run = (command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string }) =>
  runProcess(command, args, { cwd: ROOT, ...options });

/**
 * A fresh Node process, as a Lambda cold start: imports the bundle, then hands it each event read from
 * stdin in turn, as the Lambda runtime would. Prints what the import took and what the handler answered.
 */
const COLD_START = `
const started = performance.now();
const bundle = await import(process.argv[1]);
const loadMs = performance.now() - started;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const answers = [];
// Lambda's context: the time left is a 15-minute invocation's unless the test says otherwise.
const remaining = Number(process.env.TEST_LAMBDA_REMAINING_MS || 900000);
const deadline = Date.now() + remaining;
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => deadline - Date.now() };
for (const event of JSON.parse(input || "[]")) {
  try {
    answers.push(await bundle.handler(event, context));
  } catch (error) {
    answers.push({ thrown: String(error?.message ?? error) });
  }
}
const handler = bundle.handler;
process.stdout.write(JSON.stringify({ loadMs, type: typeof handler, arity: handler?.length, answers }));
process.exit(0);
`;

interface ColdStart {
  loadMs: number;
  type: string;
  arity: number;
  answers: ({ statusCode: number; body: string } | { thrown: string })[];
}

async function coldStart(env: NodeJS.ProcessEnv, events: unknown[] = []): Promise<ColdStart> {
  const result = await run(process.execPath, ["--input-type=module", "-e", COLD_START, BUNDLE], {
    env,
    input: JSON.stringify(events),
  });
  if (result.code !== 0) throw new Error(`the bundle failed (exit ${result.code}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as ColdStart;
}

/** A Lambda function URL (API Gateway payload 2.0) event carrying `body`; form bodies arrive base64-encoded. */
function functionUrlEvent(body: string, headers: Record<string, string>) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/slack/events",
    rawQueryString: "",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    requestContext: { http: { method: "POST", path: "/slack/events" }, requestId: "test" },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

let bucket: TestBucket;
let slack: SlackDouble;
let requests: SlackRequests;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const built = await run("npm", ["run", "build:lambda"], {});
  if (built.code !== 0) throw new Error(`npm run build:lambda failed:\n${built.stdout}${built.stderr}`);

  bucket = await startTestBucket();
  await bucket.put("public/handbook/handbook.pdf");
  slack = await startSlackDouble();
  slack.workspace.users.set("U0ANA", { id: "U0ANA", name: "ana" });
  slack.workspace.channels.set("C0GENERAL", { id: "C0GENERAL", name: "general", members: ["U0ANA", "UBOT"] });

  const pair = makeKeyPair();
  dir = await mkdtemp(join(tmpdir(), "handout-lambda-"));
  const { key, policyFile } = await writeKeyAndPolicy(dir, pair, POLICY);
  env = childEnv(
    handoutEnv(
      {
        bucket,
        slack,
        signingSecret: SIGNING_SECRET,
        key,
        policyFile,
        ledgerFile: join(dir, "handout.db"),
      },
      { LOG_LEVEL: "warn" },
    ),
  );
  requests = slackRequests({
    baseUrl: "http://127.0.0.1:9",
    signingSecret: SIGNING_SECRET,
    responseUrl: (id) => slack.responseUrl(id),
  });
});

afterAll(async () => {
  await slack?.stop();
  await bucket?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  slack.reset();
});

describe("the AWS Lambda bundle (npm run build:lambda)", () => {
  it("leaves the DynamoDB, Secrets Manager and KeyValueStore clients and sign-in out of what a cold start loads", async () => {
    // Every module index.mjs imports statically, and theirs: what Node loads before the handler runs.
    const loaded = new Map<string, string>();
    const visit = async (file: string): Promise<void> => {
      if (loaded.has(file)) return;
      const text = await readFile(file, "utf8");
      loaded.set(file, text);
      for (const [, path] of text.matchAll(/(?:from|import)\s*"(\.\/[^"]+)"/g)) {
        await visit(join(dirname(file), path as string));
      }
    };
    await visit(BUNDLE);
    const text = [...loaded.values()].join("\n");
    expect(text).toContain('"S3"');
    for (const service of ['"DynamoDB"', '"Secrets Manager"', '"CloudFront KeyValueStore"']) {
      expect(text).not.toContain(`serviceId??${service}`);
    }
    // openid-client, for members-only links, loads on the first sign-in; OAuth installs (jsonwebtoken signs
    // their state) and Socket Mode's WebSocket never do.
    expect(text).not.toContain('"id_token"');
    expect(text).not.toContain("Sec-WebSocket-Key");
    expect(text).not.toContain("jwt must be provided");
    // They are in the bundle still, for the processes configured to use them.
    expect(text).toMatch(/import\("\.\/chunks\/dynamodb-[^"]+"\)/);
  });

  it("is an ES module exporting a two-argument handler, as Lambda's Node.js 24 runtime requires", async () => {
    expect((await stat(BUNDLE)).isFile()).toBe(true);
    const started = await coldStart(childEnv());
    expect(started.type).toBe("function");
    expect(started.arity).toBeLessThanOrEqual(2);
    // A figure to read, not to assert on: `npm run bench` measures it properly.
    console.info(`the Lambda bundle loaded in ${started.loadMs.toFixed(0)} ms`);
  });

  it("opens the share dialog for a /share command on a cold start, before it answers", async () => {
    const body = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "handbook" });
    const started = await coldStart(env, [functionUrlEvent(body, requests.sign(body))]);

    expect(started.answers).toEqual([expect.objectContaining({ statusCode: 200 })]);
    // Bolt on Lambda answers only once the listener is done: the modal was opened and filled in.
    expect(slack.callsTo("views.open")).toHaveLength(1);
    const filled = slack.callsTo("views.update").at(-1)?.args.view as { blocks: { block_id?: string }[] };
    expect(filled.blocks.map((block) => block.block_id)).toContain("files");
  });

  it("shares on submission and acknowledges with the outcome, since the answer waits for the listener", async () => {
    const command = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "handbook" });
    await coldStart(env, [functionUrlEvent(command, requests.sign(command))]);
    const filled = slack.callsTo("views.update").at(-1)?.args.view as { private_metadata: string };
    const value = (v: string) => ({ text: { type: "plain_text", text: v }, value: v });
    const submission = requests.payloadBody(
      requests.viewSubmission({
        user: "U0ANA",
        view: {
          callback_id: "handout_share",
          private_metadata: filled.private_metadata,
          state: {
            values: {
              files: { files_input: { selected_options: [value("k:public/handbook/handbook.pdf")] } },
              expiry: { expiry_input: { selected_option: value("3600") } },
              expiry_at: { expiry_at_input: { selected_date_time: null } },
              destination: { destination_input: { selected_conversation: "C0GENERAL" } },
              how: { how_input: { selected_option: value("post") } },
            },
          },
        },
      }),
    );
    slack.reset();
    const answered = await coldStart(env, [functionUrlEvent(submission, requests.sign(submission))]);
    const answer = answered.answers[0] as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ response_action: "update" });
    expect(answer.body).toContain("Shared the file in <#C0GENERAL>");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("runs the expiry pass when an EventBridge schedule invokes it, within the time it has", async () => {
    const id = newShareId();
    await recordPostedShare(
      join(dir, "handout.db"),
      {
        id,
        sharerId: "U0ANA",
        keys: ["public/handbook/handbook.pdf"],
        channelId: "C0GENERAL",
        mode: "post",
        createdAt: new Date(Date.now() - 2 * 3_600_000),
        expiresAt: new Date(Date.now() - 60_000),
      },
      { channelId: "C0GENERAL", ts: "1893456000.000900", via: "message", pinned: false },
    );
    const state = async () => {
      const after = await openSqliteLedger(join(dir, "handout.db"));
      try {
        return (await after.get(id))?.state;
      } finally {
        await after.close();
      }
    };
    const scheduled = {
      version: "0",
      id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "eu-west-1",
      resources: ["arn:aws:events:eu-west-1:123456789012:rule/handout-expiry"],
      detail: {},
    };

    // Four seconds left: too little to claim a share and edit its message, so it is left for the next run.
    const hurried = await coldStart({ ...env, TEST_LAMBDA_REMAINING_MS: "4000" }, [scheduled]);
    expect(JSON.parse((hurried.answers[0] as { body: string }).body)).toEqual({ ok: true, expired: 0 });
    expect(await state()).toBe("active");

    const started = await coldStart(env, [scheduled]);
    const answer = started.answers[0] as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ok: true, expired: 1 });
    const update = slack.callsTo("chat.update").find((call) => call.args.ts === "1893456000.000900");
    expect(JSON.stringify(update?.args.blocks)).toContain("expired");
    expect(await state()).toBe("expired");
  });

  it("offers a file that an EventBridge S3 event announced, in the next type-ahead, without it being listed", async () => {
    const command = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "handbook" });
    await coldStart(env, [functionUrlEvent(command, requests.sign(command))]);
    const view = slack.callsTo("views.update").at(-1)?.args.view as ViewInput;
    // The file is not in the bucket at all: only the event can have put it in the index.
    const uploaded = s3Event("Object Created", "public/handbook/onboarding-2026.pdf", "0062E1A0B3C4D5E6F7", {
      bucket: bucket.name,
      size: 2048,
    });
    const suggest = (value: string) =>
      requests.payloadBody(
        requests.blockSuggestion({ user: "U0ANA", action_id: "files_input", block_id: "files", value, view }),
      );
    const body = suggest("onboarding");
    const withEvents = { ...env, HANDOUT_INDEX_EVENTS: "eventbridge" };
    const started = await coldStart(withEvents, [uploaded, functionUrlEvent(body, requests.sign(body))]);
    expect(JSON.parse((started.answers[0] as { body: string }).body)).toMatchObject({ ok: true, applied: 1 });
    const options = JSON.parse((started.answers[1] as { body: string }).body) as {
      options: { value: string }[];
    };
    expect(options.options.map((o) => o.value)).toEqual(["k:public/handbook/onboarding-2026.pdf"]);

    const deleted = s3Event("Object Deleted", "public/handbook/onboarding-2026.pdf", "0062E1A0B3C4D5E6F8", {
      bucket: bucket.name,
    });
    const again = await coldStart(withEvents, [
      uploaded,
      deleted,
      uploaded,
      functionUrlEvent(body, requests.sign(body)),
    ]);
    const after = JSON.parse((again.answers[3] as { body: string }).body) as { options: unknown[] };
    expect(JSON.parse((again.answers[2] as { body: string }).body)).toMatchObject({ applied: 0, stale: 1 });
    expect(after.options).toEqual([]);
  });

  it("refuses a request whose signature does not match", async () => {
    const body = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "" });
    const forged = { ...requests.sign(body), "x-slack-signature": `v0=${"0".repeat(64)}` };
    const started = await coldStart(env, [functionUrlEvent(body, forged)]);

    expect(started.answers).toEqual([expect.objectContaining({ statusCode: 401 })]);
    expect(slack.callsTo("views.open")).toHaveLength(0);
  });

  it("says to set SLACK_SIGNING_SECRET when it is configured for Socket Mode", async () => {
    const body = requests.commandBody({ user_id: "U0ANA", channel_id: "C0GENERAL", text: "" });
    const socketMode = { ...env, SLACK_SIGNING_SECRET: "", SLACK_APP_TOKEN: "xapp-1-A0001-1-abc" };
    const started = await coldStart(socketMode, [functionUrlEvent(body, requests.sign(body))]);

    expect(started.answers).toEqual([{ thrown: expect.stringContaining("set SLACK_SIGNING_SECRET") }]);
  });

  it("answers members-only links on the function URL: refusals as pages, and sign-in with its cookie apart", async () => {
    const idp = await startIdentityProvider({
      clientId: "1234567890.1234567890",
      clientSecret: "lambda-test-client-secret",
      redirectUri: "https://files.example.com/o/callback",
      teamId: slack.workspace.teamId,
    });
    try {
      const gateEnv = {
        ...env,
        HANDOUT_PUBLIC_URL: "https://files.example.com",
        SLACK_CLIENT_ID: "1234567890.1234567890",
        SLACK_CLIENT_SECRET: "lambda-test-client-secret",
        HANDOUT_SESSION_SECRET: "lambda-test-session-secret-0123456789",
        SLACK_OIDC_ISSUER: idp.issuer,
      };
      const live = newShareId();
      const revoked = newShareId();
      for (const id of [live, revoked]) {
        await recordPostedShare(
          join(dir, "handout.db"),
          {
            id,
            sharerId: "U0ANA",
            keys: ["public/handbook/handbook.pdf"],
            channelId: "C0GENERAL",
            mode: "post",
            createdAt: new Date(),
            expiresAt: new Date(Date.now() + 86_400_000),
            access: "members",
          },
          { channelId: "C0GENERAL", ts: "1893456000.000950", via: "message", pinned: false },
        );
      }
      const ledger = await openSqliteLedger(join(dir, "handout.db"));
      await ledger.revoke(revoked, "U0ANA", new Date());
      await ledger.close();
      const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
      const get = (path: string) => ({
        version: "2.0",
        routeKey: "$default",
        rawPath: path,
        rawQueryString: "",
        headers: { "user-agent": browser },
        requestContext: { http: { method: "GET", path }, requestId: "test" },
        isBase64Encoded: false,
      });
      const started = await coldStart(gateEnv, [
        get(`/o/${revoked}/0`),
        get(`/o/${newShareId()}/0`),
        get(`/o/${live}/0`),
      ]);
      const [gone, missing, signIn] = started.answers as {
        statusCode: number;
        body: string;
        headers: Record<string, string>;
        cookies?: string[];
      }[];
      expect(gone?.statusCode).toBe(410);
      expect(gone?.body).toContain("This link was revoked");
      expect(missing?.statusCode).toBe(404);
      expect(signIn?.statusCode).toBe(302);
      expect(new URL(signIn?.headers.location as string).origin).toBe(idp.issuer);
      expect(signIn?.headers["set-cookie"]).toBeUndefined();
      expect(signIn?.cookies).toEqual([
        expect.stringMatching(/^handout_sign_in=.+; HttpOnly; Secure; SameSite=Lax$/),
      ]);
    } finally {
      await idp.stop();
    }
  });
});
