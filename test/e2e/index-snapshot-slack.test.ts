import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flow, type Harness, type Steps, startHarness } from "../support/handout-harness.js";
import { tempFolder } from "../support/temp.js";

const SNAPSHOT_KEY = "handout-state/handout-index.snapshot";

let h: Harness;
let steps: Steps;

beforeAll(async () => {
  const dir = await tempFolder("snapshot-slack");
  const policy = join(dir, "whole-bucket.yml");
  await writeFile(
    policy,
    "rules:\n  - who: { everyone: true }\n    whole_bucket: true\n    max_expiry: 7d\n",
  );
  h = await startHarness({
    HANDOUT_POLICY_FILE: policy,
    HANDOUT_INDEX_SNAPSHOT: "s3://handout-test/handout-state",
  });
  steps = flow(h);
  await h.handout.index.refresh();
  // The first complete listing saved the snapshot into the bucket; the next one lists it too.
  let found = false;
  for (let tries = 0; tries < 100 && !found; tries++) {
    found = await h.bucket.client
      .send(new GetObjectCommand({ Bucket: h.bucket.name, Key: SNAPSHOT_KEY }))
      .then(
        () => true,
        () => false,
      );
    if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(found, "the first listing saved its snapshot in the bucket").toBe(true);
  await h.handout.index.refresh();
});

afterAll(async () => {
  await h?.stop();
});

describe("Handout's own snapshot, under a rule that grants the whole bucket", () => {
  it("is not offered as a file, and a share of it is refused with no link made", async () => {
    const { view } = await steps.share("U0ANA", "C0GENERAL");
    const suggestions = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "snapshot",
        view,
      }),
    );
    expect(suggestions.body).toEqual({ options: [] });
    const everything = await h.requests.options(
      h.requests.blockSuggestion({
        user: "U0ANA",
        action_id: "files_input",
        block_id: "files",
        value: "handout",
        view,
      }),
    );
    expect(JSON.stringify(everything.body)).not.toContain(SNAPSHOT_KEY);

    const ack = await steps.submit(view, "U0ANA", { files: [`k:${SNAPSHOT_KEY}`] });
    expect(ack.status).toBe(200);
    expect(await steps.outcome(view)).toContain("own index snapshot");
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect(JSON.stringify(h.slack.calls)).not.toContain("Signature=");
  });
});
