import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningHandout, startHandout } from "../../src/app/server.js";
import type { NewShare } from "../../src/domain/share.js";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { memberLinkUrl } from "../../src/links/member-links.js";
import { runHandout } from "../support/cli.js";
import { flow, type Harness } from "../support/handout-harness.js";
import { recordPostedShare } from "../support/ledger.js";
import { captureLogs } from "../support/log.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/oidc.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { slackRequests } from "../support/slack-requests.js";
import { tempFolder } from "../support/temp.js";

const CLIENT_ID = "1234567890.1234567890";
const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const CLIENT_SECRET = "test-client-secret-0123456789";
const FILE_BYTES = Buffer.from("%PDF-1.4 the first quarter, in figures\n");
const POLICY = `
rules:
  - name: Reports
    who: { everyone: true }
    prefixes: [reports/]
    max_expiry: 30d
`;

/** Debian's Chromium, with no network of its own beyond what the page asks for. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

let slack: SlackDouble;
let idp: TestIdentityProvider;
let handout: RunningHandout;
let context: BrowserContext;
let publicUrl: string;
let ledgerPath: string;
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);

beforeAll(async () => {
  slack = await startSlackDouble();
  const { users, channels } = slack.workspace;
  users.set("U0ANA", { id: "U0ANA", name: "ana", real_name: "Ana" });
  users.set("U0BOB", { id: "U0BOB", name: "bob" });
  users.set("U0DAN", { id: "U0DAN", name: "dan" });
  users.set("U0GUEST", { id: "U0GUEST", name: "guest", is_restricted: true });
  channels.set("C0GENERAL", {
    id: "C0GENERAL",
    name: "general",
    members: ["U0ANA", "U0BOB", "U0GUEST", slack.workspace.botUserId],
  });

  const port = await freePort();
  // Chromium counts http://localhost as a secure context, so it keeps the gate's Secure cookies there.
  publicUrl = `http://localhost:${port}`;
  idp = await startIdentityProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: `${publicUrl}/o/callback`,
    teamId: slack.workspace.teamId,
  });

  const dir = await tempFolder("gate");
  await mkdir(join(dir, "files", "reports"), { recursive: true });
  await writeFile(join(dir, "files", "reports", "q1.pdf"), FILE_BYTES);
  await writeFile(join(dir, "access.yml"), POLICY);
  ledgerPath = join(dir, "handout.db");
  handout = await startHandout(
    {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      HANDOUT_PUBLIC_URL: publicUrl,
      SLACK_CLIENT_ID: CLIENT_ID,
      SLACK_CLIENT_SECRET: CLIENT_SECRET,
      SLACK_OIDC_ISSUER: idp.issuer,
      HANDOUT_LOCAL_DIR: join(dir, "files"),
      HANDOUT_STATE_DIR: join(dir, "state"),
      HANDOUT_POLICY_FILE: join(dir, "access.yml"),
      HANDOUT_LEDGER: `sqlite:${ledgerPath}`,
    },
    captureLogs().logger,
    { now },
  );
  await handout.index.refresh();
  context = await chromium.launchPersistentContext(await tempFolder("chromium"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
  });
});

afterAll(async () => {
  await context?.close();
  await handout?.stop();
  await idp?.stop();
  await slack?.stop();
});

beforeEach(async () => {
  offsetMs = 0;
  await context.clearCookies();
});

/** A members-only share of reports/q1.pdf by Ana in #general, recorded as posted. */
async function seedShare(overrides: Partial<NewShare> = {}): Promise<string> {
  const id = newShareId();
  const at = now();
  await recordPostedShare(
    ledgerPath,
    {
      id,
      sharerId: "U0ANA",
      keys: ["reports/q1.pdf"],
      channelId: "C0GENERAL",
      mode: "post",
      createdAt: at,
      expiresAt: new Date(at.getTime() + 7 * 86_400_000),
      access: "members",
      ...overrides,
    },
    { channelId: "C0GENERAL", ts: "1700000000.000100", via: "message", pinned: false },
  );
  return id;
}

async function opensOf(shareId: string) {
  const ledger = await openSqliteLedger(ledgerPath);
  try {
    return await ledger.listOpens(shareId);
  } finally {
    await ledger.close();
  }
}

/** Goes through the provider's sign-in and consent pages as `login`; the last click is left to `last`. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.waitForSelector("input[name=login]");
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");
  await page.waitForSelector("input[value=consent]", { state: "attached" });
}

/** Opens the link, signs in as `login`, and answers the page the gate ends on (no download). */
async function openAs(link: string, login: string): Promise<{ page: Page; status: number; heading: string }> {
  const page = await context.newPage();
  await page.goto(link);
  await signIn(page, login);
  const answer = page.waitForResponse(
    (r) => new URL(r.url()).pathname.startsWith("/o/") && r.status() !== 302,
  );
  await page.click("button[type=submit]");
  const response = await answer;
  await page.waitForLoadState();
  return { page, status: response.status(), heading: (await page.textContent("h1")) ?? "" };
}

describe("a members-only link in a browser", () => {
  it("opens for a member when it was shared through the modal, and only through the gate", async () => {
    const steps = flow({
      slack,
      clock: { now, advance: () => undefined, reset: () => undefined },
      requests: slackRequests({
        baseUrl: `http://127.0.0.1:${handout.port}`,
        signingSecret: SIGNING_SECRET,
        responseUrl: (id) => slack.responseUrl(id),
      }),
    } as unknown as Harness);
    const { view } = await steps.share("U0ANA", "C0GENERAL", "q1");
    await steps.submit(view, "U0ANA", { files: ["k:reports/q1.pdf"], channel: "C0GENERAL", open: "members" });
    const posted = await slack.waitFor("chat.postMessage", (call) => call.args.channel === "C0GENERAL");
    const link = JSON.stringify(posted.args.blocks).match(/"url":"([^"]+)"/)?.[1] as string;
    expect(link).toMatch(new RegExp(`^${publicUrl}/o/[A-Za-z0-9_-]{22}/0$`));
    const shareId = link.split("/")[4] as string;

    const page = await context.newPage();
    await page.goto(link);
    await signIn(page, "U0BOB");
    const download = page.waitForEvent("download");
    await page.click("button[type=submit]");
    expect(await readFile((await (await download).path()) as string)).toEqual(FILE_BYTES);
    expect((await opensOf(shareId)).map((o) => o.userId)).toEqual(["U0BOB"]);
    await page.close();
  });

  it("opens for a member after Sign in with Slack, hands over the file's bytes and records the open", async () => {
    const shareId = await seedShare();
    const link = memberLinkUrl(publicUrl, shareId, 0);
    const page = await context.newPage();
    await page.goto(link);
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await signIn(page, "U0BOB");
    const download = page.waitForEvent("download");
    await page.click("button[type=submit]");
    const file = await download;
    expect(await readFile((await file.path()) as string)).toEqual(FILE_BYTES);
    expect(file.suggestedFilename()).toBe("q1.pdf");

    const opens = await opensOf(shareId);
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ shareId, fileIndex: 0, key: "reports/q1.pdf", userId: "U0BOB" });
    expect(opens[0]?.userAgent).toMatch(/Chrome/);

    // The security engineer's export shows the same open beside the share.
    const audit = await runHandout(["audit", "--format", "json"], { HANDOUT_LEDGER: `sqlite:${ledgerPath}` });
    expect(audit.code).toBe(0);
    const row = (
      JSON.parse(audit.stdout) as { id: string; access: string; opens: { user: string; file: string }[] }[]
    ).find((r) => r.id === shareId);
    expect(row?.access).toBe("members");
    expect(row?.opens).toEqual([expect.objectContaining({ user: "U0BOB", file: "reports/q1.pdf" })]);

    const cookies = await context.cookies(`${publicUrl}/o/`);
    const session = cookies.find((c) => c.name === "handout_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/o" });
    expect(cookies.find((c) => c.name === "handout_sign_in")).toBeUndefined();

    // Signed in, the next open goes straight to the file: no second sign-in.
    const again = await context.request.get(link, { maxRedirects: 0 });
    expect(again.status()).toBe(302);
    expect(again.headers()["cache-control"]).toBe("no-store");
    expect(new URL(again.headers().location as string).pathname).toBe("/reports/q1.pdf");
    expect(await opensOf(shareId)).toHaveLength(2);
    await page.close();
  });

  it("refuses a person who is not in the conversation, saying whom to ask", async () => {
    const shareId = await seedShare();
    const { page, status, heading } = await openAs(memberLinkUrl(publicUrl, shareId, 0), "U0DAN");
    expect(status).toBe(403);
    expect(heading).toMatch(/conversation you are not in/);
    expect(await page.textContent("main")).toMatch(/ask @ana to share it in a channel you are in/);
    expect(await opensOf(shareId)).toEqual([]);
    await page.close();
  });

  it("refuses a guest of the conversation when the policy does not let guests open", async () => {
    const shareId = await seedShare();
    const { page, status, heading } = await openAs(memberLinkUrl(publicUrl, shareId, 0), "U0GUEST");
    expect(status).toBe(403);
    expect(heading).toMatch(/Guests cannot open this link/);
    expect(await opensOf(shareId)).toEqual([]);
    await page.close();
  });

  it("refuses a sign-in to another workspace", async () => {
    const shareId = await seedShare();
    const { page, status, heading } = await openAs(memberLinkUrl(publicUrl, shareId, 0), "U0BOB@T0OTHER");
    expect(status).toBe(403);
    expect(heading).toMatch(/another workspace/);
    expect((await context.cookies(`${publicUrl}/o/`)).map((c) => c.name)).not.toContain("handout_session");
    expect(await opensOf(shareId)).toEqual([]);
    await page.close();
  });

  it("refuses a revoked share at once, even to a member who signed in", async () => {
    const { page: signedIn } = await openSignedInAsBob(await seedShare());
    await signedIn.close();
    const shareId = await seedShare();
    const ledger = await openSqliteLedger(ledgerPath);
    await ledger.revoke(shareId, "U0ANA", now());
    await ledger.close();
    const page = await context.newPage();
    const response = await page.goto(memberLinkUrl(publicUrl, shareId, 0));
    expect(response?.status()).toBe(410);
    expect(await page.textContent("h1")).toMatch(/revoked/);
    expect(await opensOf(shareId)).toEqual([]);
    await page.close();
  });

  it("refuses an expired share", async () => {
    const shareId = await seedShare({
      createdAt: new Date(now().getTime() - 2 * 86_400_000),
      expiresAt: new Date(now().getTime() - 86_400_000),
    });
    const page = await context.newPage();
    const response = await page.goto(memberLinkUrl(publicUrl, shareId, 0));
    expect(response?.status()).toBe(410);
    expect(await page.textContent("h1")).toMatch(/expired/);
    await page.close();
  });

  it("sends a forged session cookie to sign in, never to the file", async () => {
    const shareId = await seedShare();
    const forged = `${Buffer.from(JSON.stringify({ u: "U0BOB", t: slack.workspace.teamId, exp: now().getTime() + 3_600_000 })).toString("base64url")}.${"A".repeat(43)}`;
    await context.addCookies([
      {
        name: "handout_session",
        value: forged,
        domain: "localhost",
        path: "/o",
        secure: true,
        httpOnly: true,
        sameSite: "Lax",
      },
    ]);
    const answer = await context.request.get(memberLinkUrl(publicUrl, shareId, 0), { maxRedirects: 0 });
    expect(answer.status()).toBe(302);
    expect(new URL(answer.headers().location as string).origin).toBe(idp.issuer);
    expect(await opensOf(shareId)).toEqual([]);
  });

  it("sends an expired session to sign in again", async () => {
    const shareId = await seedShare({ expiresAt: new Date(now().getTime() + 7 * 86_400_000) });
    const { page } = await openSignedInAsBob(shareId);
    offsetMs = 9 * 3_600_000;
    const answer = await context.request.get(memberLinkUrl(publicUrl, shareId, 0), { maxRedirects: 0 });
    expect(answer.status()).toBe(302);
    expect(new URL(answer.headers().location as string).origin).toBe(idp.issuer);
    expect(await opensOf(shareId)).toHaveLength(1);
    await page.close();
  });

  it("refuses a replayed callback and a callback this browser did not start, changing nothing", async () => {
    const shareId = await seedShare();
    const callbacks: string[] = [];
    context.on("request", (r) => {
      if (new URL(r.url()).pathname === "/o/callback") callbacks.push(r.url());
    });
    const { page } = await openSignedInAsBob(shareId);
    expect(callbacks).toHaveLength(1);
    const replay = await context.request.get(callbacks[0] as string, { maxRedirects: 0 });
    expect(replay.status()).toBe(400);
    expect(await replay.text()).toMatch(/not valid any more/);
    const stranger = await context.request.get(`${publicUrl}/o/callback?code=abc&state=xyz`, {
      maxRedirects: 0,
    });
    expect(stranger.status()).toBe(400);
    expect(await opensOf(shareId)).toHaveLength(1);
    await page.close();
  });

  it("answers Slack's link expander with a page about the link, never a sign-in or the file", async () => {
    const shareId = await seedShare();
    const answer = await context.request.get(memberLinkUrl(publicUrl, shareId, 0), {
      maxRedirects: 0,
      headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" },
    });
    expect(answer.status()).toBe(200);
    expect(answer.headers().location).toBeUndefined();
    expect(await answer.text()).toMatch(/members-only Handout link/);
    expect(await opensOf(shareId)).toEqual([]);
  });

  it("says plainly that a share id names no share", async () => {
    const page = await context.newPage();
    const response = await page.goto(memberLinkUrl(publicUrl, newShareId(), 0));
    expect(response?.status()).toBe(404);
    expect(await page.textContent("h1")).toMatch(/no such link/);
    await page.close();
  });
});

/** Bob signs in and downloads file 0 once. */
async function openSignedInAsBob(shareId: string): Promise<{ page: Page }> {
  const page = await context.newPage();
  await page.goto(memberLinkUrl(publicUrl, shareId, 0));
  await signIn(page, "U0BOB");
  const download = page.waitForEvent("download");
  await page.click("button[type=submit]");
  await (await download).path();
  return { page };
}
