import { describe, expect, it } from "vitest";
import {
  cookieCodec,
  openSession,
  openSignIn,
  parseCookies,
  SESSION_SECONDS,
  sealSession,
  sealSignIn,
  setCookie,
} from "../../src/links/gate/session.js";

const T0 = new Date("2030-03-01T09:00:00.000Z");
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const codec = cookieCodec("a-session-secret-of-at-least-32-characters");
const session = { userId: "U0BOB", teamId: "T0TEAM" };

describe("the session cookie", () => {
  it("reads back who signed in until it expires, and not a moment after", () => {
    const sealed = sealSession(codec, session, T0);
    expect(openSession(codec, sealed, later(SESSION_SECONDS - 1))).toEqual(session);
    expect(openSession(codec, sealed, later(SESSION_SECONDS))).toBeUndefined();
  });

  it("refuses a value changed in any way", () => {
    const sealed = sealSession(codec, session, T0);
    const [body, tag] = sealed.split(".") as [string, string];
    const otherBody = Buffer.from(
      JSON.stringify({ u: "U0ADMIN", t: "T0TEAM", exp: later(60).getTime() }),
    ).toString("base64url");
    const flipped = `${tag.slice(0, -1)}${tag.endsWith("A") ? "B" : "A"}`;
    for (const tampered of [
      `${otherBody}.${tag}`,
      `${body}.${flipped}`,
      `${body}.`,
      body,
      `${sealed}.x`,
      "",
      "....",
    ]) {
      expect(openSession(codec, tampered, T0)).toBeUndefined();
    }
  });

  it("refuses a value sealed with another secret", () => {
    const sealed = sealSession(cookieCodec("another-secret-another-secret-another"), session, T0);
    expect(openSession(codec, sealed, T0)).toBeUndefined();
  });

  it("never takes a sign-in cookie for a session, nor a session for a sign-in", () => {
    const signIn = sealSignIn(codec, { state: "s", nonce: "n", codeVerifier: "v", returnTo: "/o/x/0" }, T0);
    expect(openSession(codec, signIn, T0)).toBeUndefined();
    expect(openSignIn(codec, sealSession(codec, session, T0), T0)).toBeUndefined();
    expect(openSignIn(codec, signIn, T0)).toEqual({
      state: "s",
      nonce: "n",
      codeVerifier: "v",
      returnTo: "/o/x/0",
    });
  });

  it("is set HttpOnly, Secure and SameSite=Lax, for the gate's paths only", () => {
    expect(setCookie("handout_session", "v", 60)).toBe(
      "handout_session=v; Path=/o; Max-Age=60; HttpOnly; Secure; SameSite=Lax",
    );
  });

  it("is found among the other cookies of a Cookie header, the first of a repeated name winning", () => {
    const cookies = parseCookies("a=1; handout_session=abc.def; handout_session=later; broken; b = 2");
    expect(cookies.get("handout_session")).toBe("abc.def");
    expect(cookies.get("b")).toBe("2");
    expect(parseCookies(undefined).size).toBe(0);
  });
});
