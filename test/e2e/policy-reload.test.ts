import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHandout } from "../../src/app/server.js";
import { newShareId } from "../../src/domain/share-id.js";
import { DAY, type Harness, POLICY, type Steps, useHarness } from "../support/handout-harness.js";
import { recordPostedShare } from "../support/ledger.js";
import { captureLogs } from "../support/log.js";
import { tempFolder } from "../support/temp.js";

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

    // Taking the grant away takes effect as soon: the index may still hold the folder, search does not offer it.
    await writeFile(join(h.dir, "access.yml"), POLICY);
    expect((await h.handout.reloadPolicy()).ok).toBe(true);
    const narrowed = await steps.share("U0BOB", "C0GENERAL", "salaries.xlsx");
    expect(JSON.stringify(narrowed.view.blocks)).not.toContain("k:hr/salaries.xlsx");
    expect(JSON.stringify(narrowed.view.blocks)).toContain("No file you may share matches");
  });

  it("refuses a policy file that has gone, keeping the one in force", async () => {
    await rename(join(h.dir, "access.yml"), join(h.dir, "access.yml.moved"));
    try {
      const refused = await h.handout.reloadPolicy();
      expect(refused.ok).toBe(false);
      const ana = await steps.share("U0ANA", "C0GENERAL", "q1 2026.pdf");
      expect(JSON.stringify(ana.view.blocks)).toContain("k:reports/q1 2026.pdf");
    } finally {
      await rename(join(h.dir, "access.yml.moved"), join(h.dir, "access.yml"));
    }
  });

  it("extends an announcement as a regular message once its sharer may no longer announce", async () => {
    await writeFile(join(h.dir, "access.yml"), POLICY);
    expect((await h.handout.reloadPolicy()).ok).toBe(true);
    const id = newShareId();
    await recordPostedShare(
      join(h.dir, "handout.db"),
      {
        id,
        sharerId: "U0ANA",
        keys: ["reports/q1 2026.pdf"],
        channelId: "C0GENERAL",
        mode: "announce",
        title: "Board pack",
        announcementText: "Read before Thursday.",
        createdAt: new Date(Date.now() - 60_000),
        expiresAt: new Date(Date.now() + 3_600_000),
      },
      { channelId: "C0GENERAL", ts: "1893456000.000300", via: "message", pinned: false },
    );
    await writeFile(join(h.dir, "access.yml"), POLICY.replace("    announce: true\n", ""));
    expect((await h.handout.reloadPolicy()).ok).toBe(true);

    h.slack.reset();
    const view = await steps.openExtend("U0ANA", id);
    await steps.submitExtend("U0ANA", view, DAY);
    expect(await steps.outcome(view)).toContain("Shared again in <#C0GENERAL>");
    const posted = await h.slack.waitFor("chat.postMessage");
    expect(JSON.stringify(posted.args.blocks)).not.toContain('"type":"header"');
    expect(JSON.stringify(posted.args.blocks)).not.toContain("Read before Thursday.");
    await writeFile(join(h.dir, "access.yml"), POLICY);
    expect((await h.handout.reloadPolicy()).ok).toBe(true);
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

describe("reading the policy again in the embedded default", () => {
  it("never falls back to the trial policy once a file was in force, but keeps the trial while there is none", async () => {
    const dir = await tempFolder("reload");
    // HANDOUT_POLICY_FILE unset, as in a first run: ./access.yml, from the folder Handout runs in.
    const env = {
      HANDOUT_LOCAL_DIR: join(dir, "files"),
      HANDOUT_STATE_DIR: join(dir, "state"),
      HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
    };
    const logs = captureLogs();
    const before = process.cwd();
    process.chdir(dir);
    const handout = await buildHandout(env, logs.logger).catch((error: unknown) => {
      process.chdir(before);
      throw error;
    });
    try {
      // No file: the trial policy, and reading again keeps it.
      expect(await handout.reloadPolicy()).toEqual({ ok: true, rules: 1 });

      await writeFile(
        join(dir, "access.yml"),
        "rules:\n  - who: { users: [U0ANA] }\n    prefixes: [reports/]\n",
      );
      expect(await handout.reloadPolicy()).toEqual({ ok: true, rules: 1 });
      expect(logs.text()).toMatch(/"sha256":"[0-9a-f]{12}"/);

      // The file removed: refused, rather than everyone sharing everything.
      await rm(join(dir, "access.yml"));
      const refused = await handout.reloadPolicy();
      expect(refused.ok).toBe(false);
      expect(refused.ok ? "" : refused.error).toMatch(/does not exist/);
    } finally {
      await handout.close();
      process.chdir(before);
    }
  });
});
