import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { loadAccessPolicy, loadPolicyFile, PolicyError, parsePolicy } from "../../src/config/policy-file.js";
import { tempFolder } from "../support/temp.js";

const problemsOf = (text: string): string[] => {
  try {
    parsePolicy(text, "access.yml");
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems.map((p) => `${p.line}: ${p.message}`);
  }
  throw new Error("the policy was accepted");
};

describe("policy file", () => {
  it("accepts the shipped example and reads its rules", async () => {
    const text = await readFile(new URL("../../access.example.yml", import.meta.url), "utf8");
    const policy = parsePolicy(text, "access.example.yml");
    expect(policy.rules.map((r) => r.name)).toEqual([
      "Finance reports",
      "Handbook for everyone",
      "Contractors' deliverables",
      "Platform team, whole bucket",
    ]);
    const [finance, handbook, contractors, platform] = policy.rules;
    expect(finance?.who.groups).toEqual(["finance", "S0123ABCD"]);
    expect(finance?.prefixes).toEqual(["reports/", "finance/2026/"]);
    expect(finance?.maxExpirySeconds).toBe(90 * 86_400);
    expect(finance?.defaultExpirySeconds).toBe(7 * 86_400);
    expect(finance?.announce).toBe(true);
    expect(finance?.open).toEqual({ allowed: ["members"], preferred: "members" });
    expect(contractors?.open).toEqual({ allowed: ["link", "members"], preferred: "members" });
    expect(handbook?.defaultExpirySeconds).toBe(86_400);
    expect(contractors?.who.guests).toBe(true);
    expect(platform?.prefixes).toEqual([""]);
    expect(policy.admins.users).toEqual(["U0123ABCD"]);
    expect(policy.contact).toMatch(/it-help/);
  });

  it("normalises prefixes to whole folders", () => {
    const policy = parsePolicy(
      "rules:\n  - who: {everyone: true}\n    prefixes: [reports, 'a b/c/', 'x//']\n",
      "p.yml",
    );
    expect(policy.rules[0]?.prefixes).toEqual(["reports/", "a b/c/", "x/"]);
  });

  it("names the line and the fix for each problem", () => {
    const problems = problemsOf(
      [
        "rules:", //                                   1
        "  - name: finance", //                        2
        "    who:", //                                 3
        "      groups: [finance]", //                  4
        "      chanels: [C1]", //                      5
        "    prefixes: [reports/]", //                 6
        "    max_expiry: 7 days", //                   7
      ].join("\n"),
    );
    expect(problems).toEqual([
      "5: rules[0].who.chanels is not a setting Handout knows: remove it or check its spelling",
      "7: rules[0].max_expiry must be a duration such as 90m, 36h, 7d or 2w",
    ]);
  });

  it("refuses an implicit whole-bucket grant and unsafe prefixes", () => {
    const problems = problemsOf(
      [
        "rules:",
        "  - who: {everyone: true}",
        "    prefixes:",
        "      - ''",
        "      - a/../b/",
        "      - /etc/",
      ].join("\n"),
    );
    expect(problems).toEqual([
      '4: rule 1: prefix "": an empty prefix would grant the whole bucket: write `whole_bucket: true` if that is meant',
      "5: rule 1: prefix \"a/../b/\": the prefix contains a '..' path segment: write a folder path such as reports/2026/",
      "6: rule 1: prefix \"/etc/\": the prefix starts with '/': write a folder path such as reports/2026/",
    ]);
  });

  it("refuses a rule that names nobody or grants nothing, and a default beyond the maximum", () => {
    const problems = problemsOf(
      ["rules:", "  - name: empty", "    who: {}", "    max_expiry: 1d", "    default_expiry: 2d"].join("\n"),
    );
    expect(problems).toEqual([
      "2: empty: grants no files: add prefixes (folders such as reports/) or whole_bucket: true",
      "3: empty: who names nobody: add groups, channels, users or everyone: true",
      "5: empty: default_expiry (2 days) is longer than max_expiry (1 day): shorten it",
    ]);
  });

  it("explains how to name channels, users and groups", () => {
    const problems = problemsOf(
      "rules:\n  - who: {channels: ['#general'], users: ['@ana'], groups: ['fin ance']}\n    prefixes: [a/]\n",
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^2: rules\[0\]\.who\.groups\[0\] user groups are named by handle/);
    expect(problems[1]).toMatch(
      /^2: rules\[0\]\.who\.channels\[0\] channels are named by ID, like C0123ABCD/,
    );
    expect(problems[2]).toMatch(/^2: rules\[0\]\.who\.users\[0\] users are named by member ID/);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(problemsOf("rules:\n  - who: {everyone: true\n    prefixes: [a/]\n")[0]).toMatch(
      /^\d: this is not valid YAML/,
    );
    expect(problemsOf("")).toEqual(["undefined: rules is missing: add it (see access.example.yml)"]);
  });

  it("says in plain words what a setting of the wrong type accepts, not the validator's types", () => {
    const text = [
      "rules:",
      "  - name: Reports",
      "    who: { everyone: true }",
      "    prefixes: [reports/]",
      "    announce: yes",
      "  - name: Handbook",
      "    who: { everyone: true, guests: 1 }",
      "    prefixes: handbook/",
    ].join("\n");
    const problems = problemsOf(text).concat(problemsOf("contact: ''\nrules: []"));
    expect(problems).toEqual([
      '5: rules[0].announce is "yes", but must be true or false',
      "7: rules[1].who.guests is 1, but must be true or false",
      '8: rules[1].prefixes is "handbook/", but must be a list: one `- item` a line, or [a, b]',
      "1: contact is empty: write some text, or remove it",
    ]);
    for (const problem of problems) expect(problem).not.toMatch(/expected|received|Too small/);
  });

  it("reports an unknown version together with every other problem in the file", () => {
    const problems = problemsOf(
      [
        "version: 2",
        "defualts: { max_expiry: 7d }",
        "rules:",
        "  - name: Reports",
        "    who: { everyone: true }",
        "    prefixes: [reports/]",
        "    announce: yes",
        "  - name: Everything",
        "    who: { groups: [finance] }",
        '    prefixes: [""]',
      ].join("\n"),
    );
    expect(problems).toEqual([
      "1: version is 2, but this Handout reads version 1 only: write version: 1, or leave it out",
      "2: defualts is not a setting Handout knows: remove it or check its spelling",
      '7: rules[0].announce is "yes", but must be true or false',
      expect.stringMatching(/^10: Everything: prefix "": an empty prefix would grant the whole bucket/),
    ]);
  });

  it("names the file in the message, and says how to fix a missing file", async () => {
    await expect(loadPolicyFile("/nonexistent/access.yml")).rejects.toThrow(
      /\/nonexistent\/access\.yml: cannot read the file \(it does not exist\): copy access\.example\.yml/,
    );
    try {
      parsePolicy("rules: 3", "team/access.yml");
    } catch (error) {
      expect((error as Error).message).toBe(
        "The access policy team/access.yml has a problem:\n  team/access.yml:1: rules is 3, but must be a list: one `- item` a line, or [a, b]",
      );
    }
    expect.assertions(2);
  });

  it("falls back to the trial policy on the POLICY_FILE_MISSING code only, never on a file it cannot read", async () => {
    const dir = await tempFolder("policy-trial");
    const config = loadConfig({ HANDOUT_LOCAL_DIR: join(dir, "files") });
    expect(config.trialPolicyAllowed).toBe(true);

    const missing = join(dir, "access.yml");
    await expect(loadPolicyFile(missing)).rejects.toMatchObject({ code: "POLICY_FILE_MISSING" });
    expect(await loadAccessPolicy(config, { file: missing })).toMatchObject({ trial: true });
    await expect(loadAccessPolicy(config, { file: missing, trialAllowed: false })).rejects.toMatchObject({
      code: "POLICY_FILE_MISSING",
    });

    // There, but not readable as a file: a problem to fix, not a reason to let everyone share everything.
    const folder = join(dir, "folder.yml");
    await mkdir(folder);
    await expect(loadAccessPolicy(config, { file: folder })).rejects.toMatchObject({
      code: "POLICY_INVALID",
      message: expect.stringContaining("cannot read the file"),
    });
  });
});
