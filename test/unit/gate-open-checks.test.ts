import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ShareLedger } from "../../src/domain/ledger.js";
import type { AccessPolicy, Audience, Person, Rule } from "../../src/domain/policy.js";
import type { Directory, LinkSigner } from "../../src/domain/ports.js";
import type { NewShare } from "../../src/domain/share.js";
import { newShareId } from "../../src/domain/share-id.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { createGate, type GateRequest, type SignInProvider } from "../../src/links/gate/gate.js";
import { cookieCodec, sealSession, sealSignIn } from "../../src/links/gate/session.js";
import { memberLinkUrl, parseMemberPath } from "../../src/links/member-links.js";
import { captureLogs } from "../support/log.js";
import { tempFolder } from "../support/temp.js";

const T0 = new Date("2030-03-01T09:00:00.000Z");
const TEAM = "T0TEAM";
const codec = cookieCodec("a-session-secret-of-at-least-32-characters");
const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

const nobody: Audience = { everyone: false, groups: [], channels: [], users: [], guests: false };
const rule = (overrides: Partial<Rule> = {}): Rule => ({
  name: "Reports",
  who: { ...nobody, everyone: true },
  prefixes: ["reports/"],
  maxExpirySeconds: 30 * 86_400,
  defaultExpirySeconds: 86_400,
  announce: false,
  open: { allowed: ["link", "members"], preferred: "members" },
  guestsMayOpen: false,
  ...overrides,
});
const policyWith = (...rules: Rule[]): AccessPolicy => ({
  rules,
  admins: nobody,
  contact: undefined,
  allowExternalChannels: false,
});

let ledger: ShareLedger;
let policy: AccessPolicy;
let members: Map<string, Set<string>>;
let guests: Set<string>;
let signed: { key: string; expiresAt: Date; shareId: string | undefined }[];
let finished: { userId: string; teamId: string };

const directory: Pick<Directory, "person" | "isMember"> = {
  async person(userId): Promise<Person> {
    return { userId, groups: [], channels: new Set(), isGuest: guests.has(userId) };
  },
  async isMember(channelId, userId) {
    return members.get(channelId)?.has(userId) ?? false;
  },
};
const signer: LinkSigner = {
  sign(key, validity) {
    signed.push({ key, expiresAt: validity.expiresAt, shareId: validity.shareId });
    return { key, url: `https://cdn.example.com/${key}?Signature=x`, expiresAt: validity.expiresAt };
  },
};
const signIn: SignInProvider = {
  async authorizationUrl(checks) {
    return new URL(`https://slack.example/authorize?state=${checks.state}&nonce=${checks.nonce}`);
  },
  async finish() {
    return finished;
  },
};

const gate = () =>
  createGate({
    ledger,
    directory,
    policy: () => policy,
    signer,
    signIn,
    teamId: TEAM,
    codec,
    nameOf: async (userId) => (userId === "U0ANA" ? "ana" : undefined),
    now: () => T0,
    logger: captureLogs().logger,
  });

const as = (userId: string, teamId = TEAM) => `handout_session=${sealSession(codec, { userId, teamId }, T0)}`;
const get = (url: string, cookie?: string, userAgent = CHROME): GateRequest => ({
  method: "GET",
  url,
  cookie,
  userAgent,
});

async function share(overrides: Partial<NewShare> = {}): Promise<string> {
  const id = newShareId();
  await ledger.record({
    id,
    sharerId: "U0ANA",
    keys: ["reports/q1.pdf", "reports/q2.pdf"],
    channelId: "C0GENERAL",
    mode: "post",
    createdAt: new Date(T0.getTime() - 60_000),
    expiresAt: new Date(T0.getTime() + 86_400_000),
    access: "members",
    ...overrides,
  });
  await ledger.posted(id, { channelId: "C0GENERAL", ts: "1.2", via: "message", pinned: false });
  return id;
}

beforeEach(async () => {
  ledger = await openSqliteLedger(join(await tempFolder("gate-unit"), "handout.db"));
  policy = policyWith(rule());
  members = new Map([["C0GENERAL", new Set(["U0ANA", "U0BOB", "U0GUEST"])]]);
  guests = new Set(["U0GUEST"]);
  signed = [];
  finished = { userId: "U0BOB", teamId: TEAM };
});
afterEach(async () => {
  await ledger.close();
});

describe("member links", () => {
  it("are the public address, /o/, the share and the file's place", () => {
    const id = newShareId();
    expect(memberLinkUrl("https://files.example.com", id, 2)).toBe(`https://files.example.com/o/${id}/2`);
    expect(parseMemberPath(`/o/${id}/2`)).toEqual({ shareId: id, index: 2 });
    for (const path of [`/o/${id}/02`, `/o/${id}/-1`, `/o/${id}`, "/o/short/0", `/o/${id}/0/x`]) {
      expect(parseMemberPath(path)).toBeUndefined();
    }
  });
});

describe("the gate", () => {
  it("opens a member's file: records the open and redirects, uncached, to a link that lives a minute", async () => {
    const id = await share();
    const answer = await gate()(get(`/o/${id}/1`, as("U0BOB")));
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe("https://cdn.example.com/reports/q2.pdf?Signature=x");
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(signed).toEqual([
      { key: "reports/q2.pdf", expiresAt: new Date(T0.getTime() + 60_000), shareId: id },
    ]);
    expect(await ledger.listOpens(id)).toEqual([
      { shareId: id, fileIndex: 1, key: "reports/q2.pdf", userId: "U0BOB", at: T0, userAgent: CHROME },
    ]);
  });

  it("sends a person without a session to sign in, keeping the way back in a signed cookie", async () => {
    const id = await share();
    const answer = await gate()(get(`/o/${id}/0`));
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toMatch(/^https:\/\/slack\.example\/authorize\?state=/);
    expect(String(answer.headers["set-cookie"])).toMatch(
      /^handout_sign_in=.+; Path=\/o; Max-Age=600; HttpOnly; Secure; SameSite=Lax/,
    );
    expect(signed).toEqual([]);
  });

  it("treats a session from another workspace as none", async () => {
    const id = await share();
    const answer = await gate()(get(`/o/${id}/0`, as("U0BOB", "T0OTHER")));
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toMatch(/^https:\/\/slack\.example\//);
    expect(await ledger.listOpens(id)).toEqual([]);
  });

  it("opens an ephemeral share for its sharer alone", async () => {
    const id = await share({ mode: "ephemeral" });
    expect((await gate()(get(`/o/${id}/0`, as("U0ANA")))).status).toBe(302);
    const refused = await gate()(get(`/o/${id}/0`, as("U0BOB")));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/only for the person who shared it/);
    expect((await ledger.listOpens(id)).map((o) => o.userId)).toEqual(["U0ANA"]);
  });

  it("opens for the sharer even when they have left the conversation", async () => {
    const id = await share();
    members.get("C0GENERAL")?.delete("U0ANA");
    expect((await gate()(get(`/o/${id}/0`, as("U0ANA")))).status).toBe(302);
  });

  it("refuses a member who left the conversation since the share was posted", async () => {
    const id = await share();
    members.get("C0GENERAL")?.delete("U0BOB");
    const refused = await gate()(get(`/o/${id}/0`, as("U0BOB")));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/ask @ana to share it in a channel you are in/);
    expect(signed).toEqual([]);
  });

  it("lets a guest open when the rule allows guests, and only then", async () => {
    const id = await share();
    expect((await gate()(get(`/o/${id}/0`, as("U0GUEST")))).status).toBe(403);
    policy = policyWith(rule({ guestsMayOpen: true }));
    expect((await gate()(get(`/o/${id}/0`, as("U0GUEST")))).status).toBe(302);
  });

  it("refuses once the policy no longer lets the sharer share that file", async () => {
    const id = await share();
    policy = policyWith(rule({ prefixes: ["public/"] }));
    const refused = await gate()(get(`/o/${id}/0`, as("U0BOB")));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/no longer lets the person who shared it share this file/);
    expect(await ledger.listOpens(id)).toEqual([]);
  });

  it("has no gate link for a share open to anyone with the link, nor for a file it does not hold", async () => {
    const link = await share({ access: "link" });
    expect((await gate()(get(`/o/${link}/0`, as("U0BOB")))).status).toBe(404);
    const members = await share();
    expect((await gate()(get(`/o/${members}/2`, as("U0BOB")))).status).toBe(404);
    expect(signed).toEqual([]);
  });

  it("answers bots and HEAD requests with a page about the link, counting no open", async () => {
    const id = await share();
    for (const request of [
      get(`/o/${id}/0`, as("U0BOB"), "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
      get(`/o/${id}/0`, as("U0BOB"), "Mozilla/5.0 (compatible; Googlebot/2.1)"),
      { ...get(`/o/${id}/0`, as("U0BOB")), method: "HEAD" },
    ]) {
      const answer = await gate()(request);
      expect(answer.status).toBe(200);
      expect(answer.headers.location).toBeUndefined();
    }
    expect(await ledger.listOpens(id)).toEqual([]);
    expect(signed).toEqual([]);
  });

  it("returns after sign-in only to a path on Handout itself", async () => {
    const id = await share();
    const started = sealSignIn(
      codec,
      { state: "st", nonce: "no", codeVerifier: "cv", returnTo: `/o/${id}/0` },
      T0,
    );
    const back = await gate()(get("/o/callback?code=c&state=st", `handout_sign_in=${started}`));
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe(`/o/${id}/0`);
    expect(String(back.headers["set-cookie"])).toMatch(/handout_session=/);

    const elsewhere = sealSignIn(
      codec,
      { state: "st", nonce: "no", codeVerifier: "cv", returnTo: "//evil.example/o/x/0" },
      T0,
    );
    const refused = await gate()(get("/o/callback?code=c&state=st", `handout_sign_in=${elsewhere}`));
    expect(refused.status).toBe(400);
    expect(refused.headers.location).toBeUndefined();
  });

  it("refuses a callback whose state is not the one this browser started", async () => {
    const started = sealSignIn(
      codec,
      { state: "st", nonce: "no", codeVerifier: "cv", returnTo: `/o/${newShareId()}/0` },
      T0,
    );
    const refused = await gate()(get("/o/callback?code=c&state=other", `handout_sign_in=${started}`));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/does not match/);
    expect(String(refused.headers["set-cookie"])).not.toMatch(/handout_session=[^;]/);
  });

  it("refuses a sign-in Slack denied", async () => {
    const started = sealSignIn(
      codec,
      { state: "st", nonce: "no", codeVerifier: "cv", returnTo: `/o/${newShareId()}/0` },
      T0,
    );
    const refused = await gate()(
      get("/o/callback?error=access_denied&state=st", `handout_sign_in=${started}`),
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/did not sign in/);
  });

  it("takes GET and HEAD only", async () => {
    const answer = await gate()({ ...get(`/o/${newShareId()}/0`), method: "POST" });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("GET, HEAD");
  });
});
