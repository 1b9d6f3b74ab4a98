import { describe, expect, it } from "vitest";
import { CUT_OFF_TEXT } from "../../../src/slack/context.js";
import { EXTEND_VIEW } from "../../../src/slack/ids.js";
import { extendSubmission } from "../../../src/slack/listeners/extend-submission.js";
import { DAY_SECONDS, type FakeWorld, fakeWorld, NOW } from "../../support/fakes.js";
import { expiryValues, viewSubmissionArgs } from "../../support/slack-args.js";

const SHARE = "bobsShare0000000000001";
const NOW_SECONDS = NOW.getTime() / 1000;

/** Bob's share of one report in #general, posted, good for another hour. */
async function withBobsShare(world: FakeWorld): Promise<void> {
  await world.ledger.record({
    id: SHARE,
    sharerId: "U0BOB",
    keys: ["reports/q1.pdf"],
    channelId: "C0GENERAL",
    mode: "post",
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + 3_600_000),
  });
  await world.ledger.posted(SHARE, { channelId: "C0GENERAL", ts: "1.2", via: "message", pinned: false });
}

function submit(
  world: FakeWorld,
  userId: string,
  choice: { expirySeconds?: number; at?: number },
  sealedFor = userId,
) {
  const privateMetadata = world.ctx.seal.seal({
    userId: sealedFor,
    viewRef: "handout-view-extend",
    query: "",
    shareId: SHARE,
  });
  return viewSubmissionArgs({
    userId,
    privateMetadata,
    values: expiryValues(choice),
    callbackId: EXTEND_VIEW,
  });
}

const filledText = (call: { args: Record<string, unknown> } | undefined): string =>
  JSON.stringify(call?.args.view);

describe("the extension dialog's submission", () => {
  it("refuses a form whose metadata was sealed for someone else", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks } = submit(world, "U0BOB", { expirySeconds: 3600 }, "U0ANA");
    await extendSubmission(world.ctx)(args);
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: { expiry: "This form was changed outside Slack. Close it and start again." },
      },
    ]);
    expect(world.poster.posts).toEqual([]);
  });

  it("answers an expiry beyond the policy's maximum next to the preset, and extends nothing", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks } = submit(world, "U0BOB", { expirySeconds: 2 * DAY_SECONDS });
    await extendSubmission(world.ctx)(args);
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: { expiry: "Links to these files can last at most 1 day. Choose an earlier time." },
      },
    ]);
    expect(world.poster.posts).toEqual([]);
    expect(world.ledger.shares.get(SHARE)?.replacedBy).toBeUndefined();
  });

  it("answers a date beyond the maximum next to the date picker", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks } = submit(world, "U0BOB", { at: NOW_SECONDS + 3 * DAY_SECONDS });
    await extendSubmission(world.ctx)(args);
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: { expiry_at: "Links to these files can last at most 1 day. Choose an earlier time." },
      },
    ]);
  });

  it("answers a time already past next to the date picker", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks } = submit(world, "U0BOB", { at: NOW_SECONDS - 60 });
    await extendSubmission(world.ctx)(args);
    expect(acks).toEqual([
      {
        response_action: "errors",
        errors: { expiry_at: "That time has passed. Choose a time in the future." },
      },
    ]);
  });

  it("asks for an expiry when neither a preset nor a date was chosen", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks } = submit(world, "U0BOB", {});
    await extendSubmission(world.ctx)(args);
    expect(acks).toEqual([
      { response_action: "errors", errors: { expiry: "Choose how long the links last." } },
    ]);
  });

  it("shares the files again in the same conversation, and the old share points to the new one", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks, client } = submit(world, "U0BOB", { expirySeconds: 3600 });
    await extendSubmission(world.ctx)(args);
    expect(acks).toHaveLength(1);
    expect(JSON.stringify(acks[0])).toContain("Sharing again…");
    expect(world.poster.posts.map((post) => [post.channelId, post.files.map((f) => f.file.key)])).toEqual([
      ["C0GENERAL", ["reports/q1.pdf"]],
    ]);
    const newId = world.poster.posts[0]?.id as string;
    expect(world.ledger.shares.get(SHARE)?.replacedBy).toBe(newId);
    expect(world.ledger.shares.get(newId)).toMatchObject({ state: "active", replaces: SHARE });
    expect(world.messages.edits).toEqual([`replaced ${SHARE}`]);
    const [filled] = client.callsTo("views.update");
    expect(filled?.args.external_id).toBe("handout-view-extend");
    expect(filledText(filled)).toContain("Shared again in <#C0GENERAL>");
  });

  it("lets the extension refuse someone who is neither the sharer nor an admin, in plain words", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, client } = submit(world, "U0ANA", { expirySeconds: 3600 });
    await extendSubmission(world.ctx)(args);
    expect(filledText(client.callsTo("views.update")[0])).toContain(
      "Only the person who shared these files, or an admin, can share them again.",
    );
    expect(world.poster.posts).toEqual([]);
  });

  it("says Handout has no record of a share that is not in the ledger, never that something went wrong", async () => {
    const world = fakeWorld();
    const { args, client } = submit(world, "U0BOB", { expirySeconds: 3600 });
    await extendSubmission(world.ctx)(args);
    const text = filledText(client.callsTo("views.update")[0]);
    expect(text).toContain("Nothing was shared.");
    expect(text).toContain("Handout has no record of that share.");
    expect(text).not.toContain("went wrong");
  });

  it("acknowledges with the outcome where the acknowledgement waits for the listener (AWS Lambda)", async () => {
    const world = fakeWorld();
    await withBobsShare(world);
    const { args, acks, client } = submit(world, "U0BOB", { expirySeconds: 3600 });
    await extendSubmission({ ...world.ctx, ackWaitsForListener: true })(args);
    expect(acks).toHaveLength(1);
    expect(JSON.stringify(acks[0])).toContain("Shared again in <#C0GENERAL>");
    expect(client.callsTo("views.update")).toEqual([]);
  });

  it("tells the person a shutdown cut the extension off when it does not end in time", async () => {
    const stop = new AbortController();
    const world = fakeWorld({ overdue: stop.signal });
    await withBobsShare(world);
    world.poster.post = () => {
      stop.abort();
      return new Promise(() => {});
    };
    const { args, client } = submit(world, "U0BOB", { expirySeconds: 3600 });
    await extendSubmission(world.ctx)(args);
    expect(filledText(client.callsTo("views.update")[0])).toContain(
      JSON.stringify(CUT_OFF_TEXT).slice(1, 60),
    );
  });
});
