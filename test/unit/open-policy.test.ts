import { describe, expect, it } from "vitest";
import { PolicyError, parsePolicy } from "../../src/config/policy-file.js";
import { accessFor, gateRuleFor, type Person } from "../../src/domain/policy.js";

const POLICY = `
rules:
  - name: Finance
    who: { groups: [finance] }
    prefixes: [finance/]
    open: members
    guests_may_open: true
  - name: Handbook
    who: { everyone: true }
    prefixes: [handbook/]
  - name: Press kit
    who: { everyone: true }
    prefixes: [press/]
    open: link
  - name: Plans
    who: { everyone: true }
    prefixes: [plans/]
    open: choice
    open_default: members
`;

const finance: Person = {
  userId: "U1",
  groups: [{ id: "S1", handle: "finance" }],
  channels: new Set(),
  isGuest: false,
};
const outsider: Person = { ...finance, userId: "U2", groups: [] };

const problemsOf = (text: string): string[] => {
  try {
    parsePolicy(text, "access.yml");
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems.map((p) => `${p.line}: ${p.message}`);
  }
  throw new Error("the policy was accepted");
};

describe("who can open, in the access policy", () => {
  const policy = parsePolicy(POLICY, "access.yml");
  const access = accessFor(policy, finance);

  it("offers either choice, preselecting plain links, where a rule says nothing", () => {
    expect(access.openChoicesFor(["handbook/a.pdf"], { gate: true })).toEqual({
      allowed: ["link", "members"],
      preferred: "link",
    });
  });

  it("offers only members-only links for a file under a rule with open: members", () => {
    expect(access.openChoicesFor(["finance/q1.xlsx"], { gate: true })).toEqual({
      allowed: ["members"],
      preferred: "members",
    });
  });

  it("preselects the rule's open_default", () => {
    expect(access.openChoicesFor(["plans/2027.pdf"], { gate: true })).toEqual({
      allowed: ["link", "members"],
      preferred: "members",
    });
  });

  it("lets the strictest rule among the chosen files decide", () => {
    expect(access.openChoicesFor(["handbook/a.pdf", "finance/q1.xlsx"], { gate: true })).toEqual({
      allowed: ["members"],
      preferred: "members",
    });
    expect(access.openChoicesFor(["handbook/a.pdf", "plans/2027.pdf"], { gate: true })).toEqual({
      allowed: ["link", "members"],
      preferred: "members",
    });
  });

  it("refuses in plain words to put a members-only file and a link-only file in one share", () => {
    const choices = access.openChoicesFor(["finance/q1.xlsx", "press/logo.png"], { gate: true });
    expect(choices).toEqual({ problem: expect.stringMatching(/“Finance”.*“Press kit”.*separately/) });
  });

  it("offers only plain links when the gate is not set up", () => {
    expect(access.openChoicesFor(["plans/2027.pdf"], { gate: false })).toEqual({
      allowed: ["link"],
      preferred: "link",
    });
  });

  it("refuses a file that must be members-only when the gate is not set up, saying why", () => {
    const choices = access.openChoicesFor(["finance/q1.xlsx"], { gate: false });
    expect(choices).toEqual({ problem: expect.stringMatching(/HANDOUT_PUBLIC_URL is not set/) });
  });

  it("has no choices for a file the person may not share", () => {
    expect(accessFor(policy, outsider).openChoicesFor(["finance/q1.xlsx"], { gate: true })).toBeUndefined();
  });

  it("tells the gate that guests may open a file only where every granting rule says so", () => {
    expect(gateRuleFor(policy, finance, "finance/q1.xlsx")).toEqual({ guestsMayOpen: true });
    expect(gateRuleFor(policy, finance, "handbook/a.pdf")).toEqual({ guestsMayOpen: false });
  });

  it("tells the gate nothing opens once the sharer may no longer share the file", () => {
    expect(gateRuleFor(policy, outsider, "finance/q1.xlsx")).toBeUndefined();
    expect(gateRuleFor(policy, finance, "finance/../secret")).toBeUndefined();
  });

  it("names a misspelt open setting and what it accepts", () => {
    expect(problemsOf("rules:\n  - who: {everyone: true}\n    prefixes: [a/]\n    open: member\n")).toEqual([
      expect.stringMatching(/^4: rules\[0\]\.open must be members .* link .* or choice/),
    ]);
  });

  it("refuses open_default beside a forced open, and guests_may_open beside open: link", () => {
    expect(
      problemsOf(
        "rules:\n  - name: A\n    who: {everyone: true}\n    prefixes: [a/]\n    open: link\n    open_default: members\n    guests_may_open: true\n",
      ),
    ).toEqual([
      expect.stringMatching(/^6: A: open_default only applies with open: choice/),
      expect.stringMatching(/^7: A: guests_may_open applies to members-only links/),
    ]);
  });
});
