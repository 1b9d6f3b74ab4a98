import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Harness, POLICY, type Steps, useHarness } from "./support/handout-harness.js";

let h: Harness;
let steps: Steps;
useHarness((ready) => {
  ({ h, steps } = ready);
});

const BOB_GETS_HR = `${POLICY}
  - name: People team
    who: { users: [U0BOB] }
    prefixes: [hr/]
    max_expiry: 1d
`;

describe("reading the access policy again (SIGHUP)", () => {
  it("takes a changed file for the next request, and lists the folders it now grants", async () => {
    const before = await steps.share("U0BOB", "C0GENERAL", "salaries.xlsx");
    expect(JSON.stringify(before.view.blocks)).toContain("No file you may share matches");

    await writeFile(join(h.dir, "access.yml"), BOB_GETS_HR);
    expect(await h.handout.reloadPolicy()).toEqual({ ok: true, rules: 4 });
    expect(h.logs.text()).toContain("read the access policy again");
    await h.handout.index.refresh();

    const after = await steps.share("U0BOB", "C0GENERAL", "salaries.xlsx");
    expect(JSON.stringify(after.view.blocks)).toContain("k:hr/salaries.xlsx");
  });

  it("refuses an invalid file and keeps the policy in force, so a typo changes nobody's access", async () => {
    await writeFile(join(h.dir, "access.yml"), BOB_GETS_HR);
    expect((await h.handout.reloadPolicy()).ok).toBe(true);

    await writeFile(join(h.dir, "access.yml"), `${BOB_GETS_HR}    prefixes: [payroll]\n`);
    const refused = await h.handout.reloadPolicy();
    expect(refused.ok).toBe(false);
    expect(refused.ok ? "" : refused.error).toMatch(/access\.yml/);
    expect(h.logs.text()).toContain("the policy file was not taken; the policy in force stays");

    const still = await steps.share("U0BOB", "C0GENERAL", "salaries.xlsx");
    expect(JSON.stringify(still.view.blocks)).toContain("k:hr/salaries.xlsx");
    // Ana's grant was never in question.
    const ana = await steps.share("U0ANA", "C0GENERAL", "q1 2026.pdf");
    expect(JSON.stringify(ana.view.blocks)).toContain("k:reports/q1 2026.pdf");
  });
});
