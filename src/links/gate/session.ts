import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed cookie values: base64url(JSON) "." base64url(HMAC-SHA256). Each kind of value is signed
 * under its own label, so a sign-in cookie can never pass as a session.
 */
export interface CookieCodec {
  seal(label: string, value: object, expiresAt: Date): string;
  /** The value, or undefined when it is malformed, forged, under another label, or expired at `now`. */
  open(label: string, sealed: string | undefined, now: Date): Record<string, unknown> | undefined;
}

export function cookieCodec(secret: string): CookieCodec {
  const mac = (label: string, body: string) =>
    createHmac("sha256", secret).update(`${label}\n${body}`).digest("base64url");
  return {
    seal(label, value, expiresAt) {
      const body = Buffer.from(JSON.stringify({ ...value, exp: expiresAt.getTime() })).toString("base64url");
      return `${body}.${mac(label, body)}`;
    },
    open(label, sealed, now) {
      if (!sealed || sealed.length > 4096) return undefined;
      const [body, tag, extra] = sealed.split(".");
      if (!body || !tag || extra !== undefined) return undefined;
      const expected = Buffer.from(mac(label, body));
      const given = Buffer.from(tag);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const value = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
        if (typeof value.exp !== "number" || value.exp <= now.getTime()) return undefined;
        return value;
      } catch {
        return undefined;
      }
    },
  };
}

/** Who a session says is signed in. */
export interface Session {
  readonly userId: string;
  readonly teamId: string;
}

export const SESSION_COOKIE = "handout_session";
export const SIGN_IN_COOKIE = "handout_sign_in";
export const SESSION_SECONDS = 8 * 3600;
/** Long enough to sign in at Slack, short enough that a stale attempt is worth nothing. */
export const SIGN_IN_SECONDS = 10 * 60;

export const sealSession = (codec: CookieCodec, session: Session, now: Date): string =>
  codec.seal(
    SESSION_COOKIE,
    { u: session.userId, t: session.teamId },
    new Date(now.getTime() + SESSION_SECONDS * 1000),
  );

export function openSession(codec: CookieCodec, sealed: string | undefined, now: Date): Session | undefined {
  const value = codec.open(SESSION_COOKIE, sealed, now);
  if (!value || typeof value.u !== "string" || typeof value.t !== "string") return undefined;
  return { userId: value.u, teamId: value.t };
}

/** What the callback must see again: the sign-in this browser started, and where it was going. */
export interface SignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string | undefined;
  readonly returnTo: string;
}

export const sealSignIn = (codec: CookieCodec, signIn: SignIn, now: Date): string =>
  codec.seal(
    SIGN_IN_COOKIE,
    { s: signIn.state, n: signIn.nonce, v: signIn.codeVerifier, r: signIn.returnTo },
    new Date(now.getTime() + SIGN_IN_SECONDS * 1000),
  );

export function openSignIn(codec: CookieCodec, sealed: string | undefined, now: Date): SignIn | undefined {
  const value = codec.open(SIGN_IN_COOKIE, sealed, now);
  if (!value || typeof value.s !== "string" || typeof value.n !== "string" || typeof value.r !== "string") {
    return undefined;
  }
  return {
    state: value.s,
    nonce: value.n,
    codeVerifier: typeof value.v === "string" ? value.v : undefined,
    returnTo: value.r,
  };
}

/** The cookies of a Cookie header, by name; a repeated name keeps its first value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

/** HttpOnly, Secure and SameSite=Lax (the return from Slack is a cross-site navigation: Strict would drop it). */
export const setCookie = (name: string, value: string, maxAgeSeconds: number): string =>
  `${name}=${value}; Path=/o; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;

export const clearCookie = (name: string): string => setCookie(name, "", 0);
