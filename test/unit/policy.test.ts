import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyProblem } from "../../src/domain/object-key.js";
import {
  type AccessPolicy,
  type Audience,
  accessFor,
  OPEN_EITHER,
  type Person,
  type Rule,
} from "../../src/domain/policy.js";

const nobody: Audience = { everyone: false, groups: [], channels: [], users: [], guests: false };
const rule = (overrides: Partial<Rule>): Rule => ({
  name: "rule",
  who: nobody,
  prefixes: [],
  maxExpirySeconds: 86_400,
  defaultExpirySeconds: 3600,
  announce: false,
  open: OPEN_EITHER,
  guestsMayOpen: false,
  ...overrides,
});
const policyOf = (rules: Rule[], admins: Partial<Audience> = {}): AccessPolicy => ({
  rules,
  admins: { ...nobody, ...admins },
  contact: undefined,
  allowExternalChannels: false,
});
const person = (overrides: Partial<Person> = {}): Person => ({
  userId: "U1",
  groups: [],
  channels: new Set(),
  isGuest: false,
  ...overrides,
});

describe("access policy", () => {
  const finance = rule({
    name: "finance",
    who: { ...nobody, groups: ["finance"] },
    prefixes: ["reports/"],
    maxExpirySeconds: 7 * 86_400,
    defaultExpirySeconds: 86_400,
  });

  it("denies everything to a person no rule names", () => {
    const access = accessFor(policyOf([finance]), person());
    expect(access.canShare).toBe(false);
    expect(access.allows("reports/q1.pdf")).toBe(false);
  });

  it("matches prefixes by whole path segments: reports/ never grants reports-secret/", () => {
    const access = accessFor(policyOf([finance]), person({ groups: [{ id: "S1", handle: "finance" }] }));
    expect(access.allows("reports/q1.pdf")).toBe(true);
    expect(access.allows("reports/2026/q2.pdf")).toBe(true);
    expect(access.allows("reports-secret/plan.pdf")).toBe(false);
    expect(access.allows("reports")).toBe(false);
    expect(access.allows("other/reports/q1.pdf")).toBe(false);
  });

  it("never allows a key that escapes its prefix with '..' or is otherwise unservable", () => {
    const access = accessFor(policyOf([finance]), person({ groups: [{ id: "S1", handle: "finance" }] }));
    expect(access.allows("reports/../hr/salaries.xlsx")).toBe(false);
    expect(access.allows("reports//x.pdf")).toBe(false);
    expect(access.allows("reports/")).toBe(false);
  });

  it("names groups by handle (any case, with or without @) or by ID", () => {
    const byId = rule({ who: { ...nobody, groups: ["S0FIN"] }, prefixes: ["a/"] });
    const byHandle = rule({ who: { ...nobody, groups: ["finance"] }, prefixes: ["b/"] });
    const member = person({ groups: [{ id: "S0FIN", handle: "Finance" }] });
    const access = accessFor(policyOf([byId, byHandle]), member);
    expect(access.allows("a/x")).toBe(true);
    expect(access.allows("b/x")).toBe(true);
  });

  it("includes channel members and named users", () => {
    const byChannel = rule({ who: { ...nobody, channels: ["C1"] }, prefixes: ["a/"] });
    const byUser = rule({ who: { ...nobody, users: ["U9"] }, prefixes: ["b/"] });
    const policy = policyOf([byChannel, byUser]);
    expect(accessFor(policy, person({ channels: new Set(["C1"]) })).allows("a/x")).toBe(true);
    expect(accessFor(policy, person({ channels: new Set(["C2"]) })).allows("a/x")).toBe(false);
    expect(accessFor(policy, person({ userId: "U9" })).allows("b/x")).toBe(true);
  });

  it("excludes guests unless the rule says guests: true", () => {
    const everyone = rule({ who: { ...nobody, everyone: true }, prefixes: ["a/"] });
    const withGuests = rule({ who: { ...nobody, channels: ["C1"], guests: true }, prefixes: ["b/"] });
    const guest = person({ isGuest: true, channels: new Set(["C1"]) });
    const access = accessFor(policyOf([everyone, withGuests]), guest);
    expect(access.allows("a/x")).toBe(false);
    expect(access.allows("b/x")).toBe(true);
    expect(accessFor(policyOf([everyone]), person({ isGuest: true, userId: "U1" })).canShare).toBe(false);
  });

  it("grants the whole bucket only through an explicit empty prefix", () => {
    const whole = rule({ who: { ...nobody, everyone: true }, prefixes: [""] });
    const access = accessFor(policyOf([whole]), person());
    expect(access.allows("any/thing.pdf")).toBe(true);
    expect(access.prefixes).toEqual([""]);
  });

  it("lets the most generous matching rule decide the expiry, per key", () => {
    const short = rule({
      who: { ...nobody, everyone: true },
      prefixes: ["reports/", "hr/"],
      maxExpirySeconds: 3600,
      defaultExpirySeconds: 600,
    });
    const long = rule({
      who: { ...nobody, users: ["U1"] },
      prefixes: ["reports/"],
      maxExpirySeconds: 90 * 86_400,
      defaultExpirySeconds: 7 * 86_400,
    });
    const access = accessFor(policyOf([short, long]), person());
    expect(access.maxExpiryFor("reports/q1.pdf")).toBe(90 * 86_400);
    expect(access.maxExpiryFor("hr/handbook.pdf")).toBe(3600);
    expect(access.maxExpiryFor("elsewhere/x")).toBeUndefined();
    expect(access.expiryLimitsFor(["reports/q1.pdf"])).toEqual({ max: 90 * 86_400, default: 7 * 86_400 });
    // Sharing both together: the tighter file decides.
    expect(access.expiryLimitsFor(["reports/q1.pdf", "hr/handbook.pdf"])).toEqual({
      max: 3600,
      default: 600,
    });
    expect(access.expiryLimitsFor(["reports/q1.pdf", "elsewhere/x"])).toBeUndefined();
  });

  it("reports announcement and admin rights from the policy", () => {
    const announcers = rule({ who: { ...nobody, groups: ["comms"] }, prefixes: ["a/"], announce: true });
    const policy = policyOf([announcers], { users: ["U7"] });
    expect(accessFor(policy, person({ groups: [{ id: "S2", handle: "comms" }] })).canAnnounce).toBe(true);
    expect(accessFor(policy, person()).canAnnounce).toBe(false);
    expect(accessFor(policy, person({ userId: "U7" })).isAdmin).toBe(true);
    expect(accessFor(policy, person({ userId: "U7", isGuest: true })).isAdmin).toBe(false);
  });

  it("gives a catalog the smallest covering set of prefixes", () => {
    const a = rule({ who: { ...nobody, everyone: true }, prefixes: ["reports/", "reports/2026/", "hr/"] });
    expect(accessFor(policyOf([a]), person()).prefixes).toEqual(["hr/", "reports/"]);
  });
});

describe("property: access is never wider than the policy", () => {
  const segment = fc.constantFrom(
    "reports",
    "reports-secret",
    "hr",
    "a",
    "a b",
    "ü",
    "..",
    ".",
    "",
    "%2e",
    "x+y",
  );
  const keyArb = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));
  const prefixArb = fc
    .array(fc.constantFrom("reports", "reports-secret", "hr", "a", "a b", "ü", "x+y"), {
      minLength: 1,
      maxLength: 3,
    })
    .map((parts) => `${parts.join("/")}/`);
  // Rules name groups by handle or by ID; people carry both.
  const groups = ["finance", "hr", "eng", "S0ALL"];
  const directory = [
    { id: "S0FIN", handle: "finance" },
    { id: "S0HR", handle: "hr" },
    { id: "S0ENG", handle: "eng" },
    { id: "S0ALL", handle: "all-staff" },
  ];
  const audienceArb = fc.record({
    everyone: fc.boolean(),
    groups: fc.subarray(groups),
    channels: fc.subarray(["C1", "C2"]),
    users: fc.subarray(["U1", "U2"]),
    guests: fc.boolean(),
  });
  const ruleArb = fc.record({
    name: fc.constant("r"),
    who: audienceArb,
    prefixes: fc.array(prefixArb, { minLength: 1, maxLength: 3 }),
    maxExpirySeconds: fc.integer({ min: 60, max: 10_000_000 }),
    defaultExpirySeconds: fc.constant(60),
    announce: fc.boolean(),
    open: fc.constant(OPEN_EITHER),
    guestsMayOpen: fc.boolean(),
  });
  const personArb = fc.record({
    userId: fc.constantFrom("U1", "U2", "U3"),
    groups: fc.subarray(directory),
    channels: fc.subarray(["C1", "C2", "C3"]).map((cs) => new Set(cs)),
    isGuest: fc.boolean(),
  });

  /** The reference: a direct reading of the rules, independent of Access's implementation. */
  const grantedPrefixes = (rules: Rule[], who: Person): string[] =>
    rules
      .filter((r) => {
        if (who.isGuest && !r.who.guests) return false;
        return (
          r.who.everyone ||
          r.who.users.includes(who.userId) ||
          r.who.channels.some((c) => who.channels.has(c)) ||
          who.groups.some((g) => r.who.groups.includes(g.handle) || r.who.groups.includes(g.id))
        );
      })
      .flatMap((r) => r.prefixes);

  it("allows a key exactly when it is servable and lies inside a prefix granted to the person", () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 4 }), personArb, keyArb, (rules, who, key) => {
        const access = accessFor(policyOf(rules), who);
        const prefixes = grantedPrefixes(rules, who);
        const inside =
          keyProblem(key) === undefined &&
          prefixes.some((p) => key.split("/").slice(0, -1).join("/").concat("/").startsWith(p));
        expect(access.allows(key)).toBe(inside);
      }),
      { numRuns: 3000 },
    );
  });

  it("always allows a servable key built inside a granted prefix", () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
        personArb,
        fc.nat(),
        keyArb,
        (rules, who, pick, tail) => {
          const prefixes = grantedPrefixes(rules, who);
          fc.pre(prefixes.length > 0 && keyProblem(tail) === undefined);
          const key = `${prefixes[pick % prefixes.length]}${tail}`;
          expect(accessFor(policyOf(rules), who).allows(key)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
