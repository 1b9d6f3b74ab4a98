import { randomBytes } from "node:crypto";
import type { ShareLedger } from "../../domain/ledger.js";
import { type AccessPolicy, gateRuleFor } from "../../domain/policy.js";
import type { Directory, LinkSigner } from "../../domain/ports.js";
import type { ShareRecord } from "../../domain/share.js";
import type { Logger } from "../../logger.js";
import { parseMemberPath } from "../member-links.js";
import { gatePage } from "./pages.js";
import {
  type CookieCodec,
  clearCookie,
  openSession,
  openSignIn,
  parseCookies,
  SESSION_COOKIE,
  SESSION_SECONDS,
  SIGN_IN_COOKIE,
  SIGN_IN_SECONDS,
  sealSession,
  sealSignIn,
  setCookie,
} from "./session.js";

/** A request as the gate needs it, from Node's HTTP server or a Lambda function URL alike. */
export interface GateRequest {
  readonly method: string;
  /** The path and query, as received. */
  readonly url: string;
  readonly cookie: string | undefined;
  readonly userAgent: string | undefined;
}

export interface GateResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | undefined;
}

/** Sign in with Slack (OpenID Connect), as the gate uses it. */
export interface SignInProvider {
  /** Where to send the browser, for a sign-in that the callback will check against these values. */
  authorizationUrl(checks: { state: string; nonce: string; codeVerifier: string | undefined }): Promise<URL>;
  /**
   * Redeems the callback's code and verifies the ID token (signature, issuer, audience, expiry, nonce,
   * state); the person and workspace it names. Throws when anything does not check out.
   */
  finish(
    callbackUrl: URL,
    checks: { state: string; nonce: string; codeVerifier: string | undefined },
  ): Promise<{ userId: string; teamId: string }>;
}

export interface GateOptions {
  readonly ledger: Pick<ShareLedger, "get" | "recordOpen">;
  readonly directory: Pick<Directory, "person" | "isMember">;
  readonly policy: () => AccessPolicy;
  /** Signs the minute-long link to the file: CloudFront's, or the embedded default's own. */
  readonly signer: LinkSigner;
  readonly signIn: SignInProvider;
  /** This workspace, from auth.test: a session from any other is no session. */
  readonly teamId: string;
  readonly codec: CookieCodec;
  /** How a person is named on a page ("ask @fiona …"); undefined when Slack does not say. */
  readonly nameOf: (userId: string) => Promise<string | undefined>;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** How long the file's own signed link lives: long enough to follow the redirect, not to pass on. */
export const FILE_LINK_SECONDS = 60;

/** Link expanders and crawlers: they get a page about the link, never a sign-in or the file. */
const BOT =
  /slackbot|slack-imgproxy|bot\b|bot\/|crawler|spider|facebookexternalhit|embedly|preview|whatsapp|curl\/|wget\//i;

export const isBot = (userAgent: string | undefined): boolean => !userAgent || BOT.test(userAgent);

const NO_STORE = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

const page = (
  status: number,
  title: string,
  paragraphs: readonly string[],
  cookies?: string[],
): GateResponse => ({
  status,
  headers: {
    ...NO_STORE,
    "content-type": "text/html; charset=utf-8",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    ...(cookies ? { "set-cookie": cookies } : {}),
  },
  body: gatePage(title, paragraphs),
});

const redirect = (location: string, cookies?: string[]): GateResponse => ({
  status: 302,
  headers: { ...NO_STORE, location, ...(cookies ? { "set-cookie": cookies } : {}) },
  body: undefined,
});

const random = () => randomBytes(32).toString("base64url");

/** Whether the gate answers this path: the members-only links and the sign-in callback. */
export const isGatePath = (url: string | undefined): boolean =>
  /^\/o(\/|$)/.test((url ?? "").split("?")[0] ?? "");

/** `GET /o/:share/:n` and `GET /o/callback`: members-only links, opened after Sign in with Slack. */
export function createGate(options: GateOptions): (request: GateRequest) => Promise<GateResponse> {
  const { codec, ledger, logger } = options;
  const sharerName = async (share: ShareRecord) => {
    const name = await options.nameOf(share.sharerId).catch(() => undefined);
    return name ? `@${name}` : "the person who shared it";
  };

  /** A refusal before anyone signs in: the link cannot open for anybody. */
  async function closedFor(
    share: ShareRecord | undefined,
    index: number,
    now: Date,
  ): Promise<GateResponse | undefined> {
    if (share?.access !== "members" || share.state === "failed" || index >= share.keys.length) {
      return page(404, "There is no such link", [
        "Handout has no file at this address. Check that you copied the whole link, or ask whoever sent it for a new one.",
      ]);
    }
    if (share.state === "revoked") {
      return page(410, "This link was revoked", [
        `${await sharerName(share)} took this share back, so its files no longer open.`,
        "If you still need the file, ask them to share it again.",
      ]);
    }
    if (share.state === "expired" || share.expiresAt.getTime() <= now.getTime()) {
      return page(410, "This link has expired", [
        `Its files could be opened until ${share.expiresAt.toUTCString()}.`,
        `If you still need the file, ask ${await sharerName(share)} to share it again.`,
      ]);
    }
    return undefined;
  }

  async function open(request: GateRequest, shareId: string, index: number): Promise<GateResponse> {
    const now = options.now();
    if (request.method === "HEAD" || isBot(request.userAgent)) {
      return page(200, "A members-only Handout link", [
        "This link opens a file for the people in the Slack conversation it was shared in. Open it in your browser and sign in with Slack.",
      ]);
    }
    const share = await ledger.get(shareId);
    const closed = await closedFor(share, index, now);
    if (closed || !share) return closed as GateResponse;

    const cookies = parseCookies(request.cookie);
    const session = openSession(codec, cookies.get(SESSION_COOKIE), now);
    if (!session || session.teamId !== options.teamId) {
      const checks = {
        state: random(),
        nonce: random(),
        // Used only where the provider supports PKCE.
        codeVerifier: random(),
      };
      const url = await options.signIn.authorizationUrl(checks);
      const sealed = sealSignIn(codec, { ...checks, returnTo: `/o/${shareId}/${index}` }, now);
      const drop = cookies.has(SESSION_COOKIE) ? [clearCookie(SESSION_COOKIE)] : [];
      return redirect(url.href, [setCookie(SIGN_IN_COOKIE, sealed, SIGN_IN_SECONDS), ...drop]);
    }

    const { userId } = session;
    const key = share.keys[index] as string;
    const asker = `ask ${await sharerName(share)}`;
    if (userId !== share.sharerId) {
      if (share.mode === "ephemeral") {
        return page(403, "This link is only for the person who shared it", [
          "It was shown to them alone in Slack, so it opens for nobody else.",
          `If you need the file, ${asker} to share it in a channel you are in.`,
        ]);
      }
      if (!(await options.directory.isMember(share.channelId, userId))) {
        return page(403, "This link is for the people in a conversation you are not in", [
          "Only members of the Slack conversation it was shared in can open it.",
          `If you need the file, ${asker} to share it in a channel you are in.`,
        ]);
      }
    }
    const sharer = await options.directory.person(share.sharerId, { fresh: true });
    const rule = gateRuleFor(options.policy(), sharer, key);
    if (!rule) {
      return page(403, "This file can no longer be shared", [
        "The access policy no longer lets the person who shared it share this file, so its link does not open.",
        `If you still need it, ${asker} or your Handout administrators.`,
      ]);
    }
    if (userId !== share.sharerId && !rule.guestsMayOpen) {
      const person = await options.directory.person(userId, { fresh: true });
      if (person.isGuest) {
        return page(403, "Guests cannot open this link", [
          "The access policy keeps these files to full members of the workspace.",
          `If you need the file, ${asker} to send it to you another way they are allowed to.`,
        ]);
      }
    }

    await ledger.recordOpen({
      shareId,
      fileIndex: index,
      key,
      userId,
      at: now,
      userAgent: (request.userAgent ?? "").slice(0, 512),
    });
    logger.info({ shareId, fileIndex: index, userId }, "members-only link opened");
    const link = options.signer.sign(key, {
      expiresAt: new Date(now.getTime() + FILE_LINK_SECONDS * 1000),
      shareId,
    });
    return redirect(link.url);
  }

  async function callback(request: GateRequest): Promise<GateResponse> {
    const now = options.now();
    const cookies = parseCookies(request.cookie);
    const signIn = openSignIn(codec, cookies.get(SIGN_IN_COOKIE), now);
    const done = [clearCookie(SIGN_IN_COOKIE)];
    const url = new URL(request.url, "http://gate.invalid");
    if (!signIn || parseMemberPath(signIn.returnTo) === undefined) {
      return page(
        400,
        "This sign-in is not valid any more",
        [
          "It was already used, took too long, or was started in another browser.",
          "Open the link you were sent again to sign in afresh.",
        ],
        done,
      );
    }
    if (url.searchParams.get("state") !== signIn.state) {
      return page(
        400,
        "This sign-in does not match",
        [
          "Slack's answer belongs to another sign-in than the one this browser started. Nothing was changed.",
          "Open the link you were sent again to sign in afresh.",
        ],
        done,
      );
    }
    if (url.searchParams.has("error")) {
      return page(
        403,
        "You did not sign in",
        [
          "Slack did not confirm who you are, so the link cannot open.",
          "Open the link again and choose Allow when Slack asks.",
        ],
        done,
      );
    }
    let who: { userId: string; teamId: string };
    try {
      who = await options.signIn.finish(url, signIn);
    } catch (error) {
      logger.warn(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        "a sign-in with Slack did not check out",
      );
      return page(
        400,
        "Slack's answer did not check out",
        [
          "Handout could not confirm this sign-in with Slack, so nobody was signed in.",
          "Open the link you were sent again to sign in afresh.",
        ],
        done,
      );
    }
    if (who.teamId !== options.teamId) {
      return page(
        403,
        "You signed in to another workspace",
        [
          "This link belongs to another Slack workspace than the one you chose.",
          "Open the link again and sign in to the workspace it was shared in.",
        ],
        done,
      );
    }
    const session = sealSession(codec, { userId: who.userId, teamId: who.teamId }, now);
    return redirect(signIn.returnTo, [...done, setCookie(SESSION_COOKIE, session, SESSION_SECONDS)]);
  }

  return async (request) => {
    const path = request.url.split("?")[0] ?? "";
    if (request.method !== "GET" && request.method !== "HEAD") {
      const refused = page(405, "Not allowed", ["Links open with GET only."]);
      return { ...refused, headers: { ...refused.headers, allow: "GET, HEAD" } };
    }
    if (path === "/o/callback") return callback(request);
    const target = parseMemberPath(path);
    if (!target) {
      return page(404, "There is no such link", [
        "Handout has no file at this address. Check that you copied the whole link, or ask whoever sent it for a new one.",
      ]);
    }
    return open(request, target.shareId, target.index);
  };
}
