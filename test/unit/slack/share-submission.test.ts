import { describe, expect, it } from "vitest";
import { PartlyPostedError } from "../../../src/domain/use-cases/share-files.js";
import { SOMETHING_WENT_WRONG } from "../../../src/slack/blocks/failure.js";
import { shareSubmission } from "../../../src/slack/listeners/share-submission.js";
import { type FakeWorld, fakeWorld } from "../../support/fakes.js";
import { shareFormValues, viewSubmissionArgs } from "../../support/slack-args.js";

type Choice = Parameters<typeof shareFormValues>[0];

function submit(world: FakeWorld, userId: string, choice: Choice, sealedFor = userId) {
  const privateMetadata = world.ctx.seal.seal({
    userId: sealedFor,
    viewRef: "handout-view-share",
    query: "",
  });
  return viewSubmissionArgs({ userId, privateMetadata, values: shareFormValues(choice) });
}

/** Submits, and returns the acknowledgement and what the modal ended up saying. */
async function share(world: FakeWorld, userId: string, choice: Choice) {
  const { args, acks, client } = submit(world, userId, choice);
  await shareSubmission(world.ctx)(args);
  const [filled] = client.callsTo("views.update");
  return { acks, outcome: JSON.stringify(filled?.args.view) };
}

describe("the share form's submission", () => {
  it("refuses a form whose metadata was sealed for someone else, and shares nothing", async () => {
    const world = fakeWorld();
    const { args, acks } = submit(world, "U0BOB", { files: ["reports/q1.pdf"] }, "U0ANA");
    await shareSubmission(world.ctx)(args);
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: {
          files:
            "This form was changed outside Slack, so Handout will not use it. Close it and type /share again.",
        },
      },
    ]);
    expect(world.poster.posts).toEqual([]);
  });

  it("names a file the person may not share next to the file menu, before anything is recorded", async () => {
    const world = fakeWorld();
    const { acks } = await share(world, "U0ANA", { files: ["reports/q1.pdf", "payroll/2031.xlsx"] });
    expect(acks).toEqual([
      { response_action: "errors", errors: { files: "You may not share “payroll/2031.xlsx”." } },
    ]);
    expect(world.ledger.shares.size).toBe(0);
  });

  it("answers an announcement by someone who may not announce next to the choice of how", async () => {
    const world = fakeWorld();
    const { acks } = await share(world, "U0BOB", {
      files: ["reports/q1.pdf"],
      how: "announce",
      title: "Q1",
    });
    expect(acks).toEqual([{ response_action: "errors", errors: { how: "You may not post announcements." } }]);
  });

  it("answers an expiry beyond the person's maximum next to the preset", async () => {
    const world = fakeWorld();
    const { acks } = await share(world, "U0BOB", { files: ["reports/q1.pdf"], expirySeconds: 7 * 86_400 });
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: { expiry: "Links to these files can last at most 1 day. Choose an earlier time." },
      },
    ]);
  });

  it("shares, records and says where, with the form's own check and the share's agreeing", async () => {
    const world = fakeWorld();
    const { acks, outcome } = await share(world, "U0ANA", { files: ["reports/q1.pdf"], note: "For Monday" });
    expect(JSON.stringify(acks[0])).toContain("Sharing…");
    expect(world.poster.posts).toHaveLength(1);
    expect(world.poster.posts[0]).toMatchObject({ channelId: "C0GENERAL", note: "For Monday", mode: "post" });
    expect([...world.ledger.shares.values()].map((s) => [s.id, s.state])).toEqual([
      ["share00000000000000001", "active"],
    ]);
    expect(outcome).toContain("Shared the file in <#C0GENERAL>.");
  });

  it("mentions the conversation a person is not in, rather than naming its id", async () => {
    const world = fakeWorld();
    world.directory.outsiders.add("C0RANDOM");
    const { outcome } = await share(world, "U0ANA", { files: ["reports/q1.pdf"], channel: "C0RANDOM" });
    expect(outcome).toContain("Nothing was shared.");
    expect(outcome).toContain("You are not in <#C0RANDOM>, so Handout will not post there for you.");
    expect(world.ledger.shares.size).toBe(0);
  });

  it("names files that left the bucket, shortened in the middle, and records nothing", async () => {
    const long = `reports/${"quarterly-".repeat(20)}final.pdf`;
    const world = fakeWorld({ gone: [long] });
    const { outcome } = await share(world, "U0ANA", { files: [long] });
    expect(outcome).toContain("is no longer in the bucket. Choose again.");
    expect(outcome).toContain("…");
    expect(outcome).toContain("final.pdf”");
    expect(outcome).not.toContain(long);
    expect(world.ledger.shares.size).toBe(0);
  });

  it("escapes what the person or the bucket wrote, so that it cannot mention anyone", async () => {
    const world = fakeWorld({ gone: ["reports/<!channel> & co.pdf"] });
    const { outcome } = await share(world, "U0ANA", { files: ["reports/<!channel> & co.pdf"] });
    expect(outcome).toContain("&lt;!channel&gt; &amp; co.pdf");
    expect(outcome).not.toContain("<!channel>");
  });

  it("goes on to the share's own check when the directory cannot answer the quick one, and says Handout failed", async () => {
    const world = fakeWorld();
    world.directory.failing = new Error("socket hang up");
    const { acks, outcome } = await share(world, "U0ANA", { files: ["reports/q1.pdf"] });
    expect(JSON.stringify(acks[0])).toContain("Sharing…");
    expect(outcome).toContain("Nothing was shared.");
    expect(outcome).toContain(SOMETHING_WENT_WRONG.slice(0, 40));
    expect(outcome).not.toContain("socket hang up");
    expect(world.logs.lines()).toContainEqual(
      expect.objectContaining({ level: 50, msg: "a share failed unexpectedly" }),
    );
  });

  it("says only part was shared when Slack refused a later message of the share", async () => {
    const world = fakeWorld();
    world.poster.post = async (s) => {
      throw new PartlyPostedError("Slack refused the second message: its links are not out.", {
        channelId: s.channelId,
        ts: "1.1",
        via: "message",
        pinned: false,
      });
    };
    const { outcome } = await share(world, "U0ANA", { files: ["reports/q1.pdf"] });
    expect(outcome).toContain("Only part of it was shared.");
    expect([...world.ledger.shares.values()].map((s) => s.state)).toEqual(["active"]);
  });
});
