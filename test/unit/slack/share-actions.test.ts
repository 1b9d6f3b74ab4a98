import { describe, expect, it } from "vitest";
import type { NewShare } from "../../../src/domain/share.js";
import { SOMETHING_WENT_WRONG } from "../../../src/slack/blocks/failure.js";
import { EXTEND_ACTION, REVOKE_ACTION } from "../../../src/slack/ids.js";
import { extendButton, revokeButton } from "../../../src/slack/listeners/share-actions.js";
import { DAY_SECONDS, type FakeWorld, fakeWorld, NOW } from "../../support/fakes.js";
import { buttonArgs } from "../../support/slack-args.js";

const ANAS_SHARE = "anasShare000000000001a";

async function withAnasShare(world: FakeWorld, keys = ["reports/q1.pdf"]): Promise<void> {
  const share: NewShare = {
    id: ANAS_SHARE,
    sharerId: "U0ANA",
    keys,
    channelId: "C0GENERAL",
    mode: "post",
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + DAY_SECONDS * 1000),
  };
  await world.ledger.record(share);
  await world.ledger.posted(share.id, { channelId: "C0GENERAL", ts: "1.2", via: "message", pinned: false });
}

const publishedText = (calls: { args: Record<string, unknown> }[]): string =>
  JSON.stringify(calls.map((call) => call.args.view));

describe("the Revoke button", () => {
  it("says in plain words that Handout has no record of an unknown share, never that something went wrong", async () => {
    const world = fakeWorld();
    const { args, acks, client } = buttonArgs({
      userId: "U0ANA",
      actionId: REVOKE_ACTION,
      value: "noSuchShare00000000001",
      where: "home",
    });
    await revokeButton(world.ctx)(args);
    expect(acks).toHaveLength(1);
    const home = publishedText(client.callsTo("views.publish"));
    expect(home).toContain("Handout has no record of that share.");
    expect(home).not.toContain("went wrong");
    expect(world.logs.lines()).toContainEqual(
      expect.objectContaining({ event: "revoke_refused", code: "INPUT_INVALID" }),
    );
  });

  it("treats a button value that is not a share id as an unknown share", async () => {
    const world = fakeWorld();
    const { args, client } = buttonArgs({
      userId: "U0ANA",
      actionId: REVOKE_ACTION,
      value: "../../etc/passwd",
      where: "home",
    });
    await revokeButton(world.ctx)(args);
    expect(publishedText(client.callsTo("views.publish"))).toContain("Handout has no record of that share.");
  });

  it("refuses someone who is neither the sharer nor an admin, and leaves the share live", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    const { args, client } = buttonArgs({
      userId: "U0BOB",
      actionId: REVOKE_ACTION,
      value: ANAS_SHARE,
      where: "home",
    });
    await revokeButton(world.ctx)(args);
    expect(publishedText(client.callsTo("views.publish"))).toContain(
      "Only the person who shared these files, or an admin, can do that.",
    );
    expect(world.ledger.shares.get(ANAS_SHARE)?.state).toBe("active");
    expect(world.messages.edits).toEqual([]);
    // The decision rests on a fresh answer from the directory (App Home's own lookup comes after).
    expect(world.directory.lookups[0]).toEqual({ userId: "U0BOB", fresh: true });
  });

  it("lets an admin revoke another person's share, and takes the links out of its message", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    const { args, client } = buttonArgs({
      userId: "U0ADA",
      actionId: REVOKE_ACTION,
      value: ANAS_SHARE,
      where: "home",
    });
    await revokeButton(world.ctx)(args);
    expect(world.ledger.shares.get(ANAS_SHARE)).toMatchObject({ state: "revoked", revokedBy: "U0ADA" });
    expect(world.messages.edits).toEqual([`revoked ${ANAS_SHARE} by U0ADA`]);
    expect(publishedText(client.callsTo("views.publish"))).toContain(
      "Revoked. The links are gone from the message. Those links no longer open.",
    );
  });

  it("answers a click in a message with a message only the clicker sees", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    await world.ledger.revoke(ANAS_SHARE, "U0ANA", NOW);
    const { args, client } = buttonArgs({
      userId: "U0ANA",
      actionId: REVOKE_ACTION,
      value: ANAS_SHARE,
      where: { channelId: "C0GENERAL" },
    });
    await revokeButton(world.ctx)(args);
    expect(client.callsTo("views.publish")).toEqual([]);
    expect(client.callsTo("chat.postEphemeral")).toEqual([
      {
        method: "chat.postEphemeral",
        args: { channel: "C0GENERAL", user: "U0ANA", text: ":warning: That share was already revoked." },
      },
    ]);
  });

  it("says Handout's side failed, in its one wording, when the ledger fails", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    world.ledger.revoke = async () => {
      throw new Error("disk I/O error");
    };
    const { args, client } = buttonArgs({
      userId: "U0ANA",
      actionId: REVOKE_ACTION,
      value: ANAS_SHARE,
      where: "home",
    });
    await revokeButton(world.ctx)(args);
    const home = publishedText(client.callsTo("views.publish"));
    expect(home).toContain(SOMETHING_WENT_WRONG.slice(0, 40));
    expect(home).not.toContain("disk I/O error");
  });
});

describe("the Extend and Share again buttons", () => {
  const click = async (world: FakeWorld, userId: string, value: string | undefined) => {
    const { args, acks, client } = buttonArgs({ userId, actionId: EXTEND_ACTION, value, where: "home" });
    await extendButton(world.ctx)(args);
    expect(acks).toHaveLength(1);
    expect(client.callsTo("views.open")).toHaveLength(1);
    const [filled] = client.callsTo("views.update");
    expect(filled?.args.view_id).toBe("V0OPENED");
    return JSON.stringify(filled?.args.view);
  };

  it("offers the sharer a new expiry within what the policy allows them now", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    const view = await click(world, "U0ANA", ANAS_SHARE);
    expect(view).toContain("handout_extend");
    expect(view).toContain("New links expire after");
  });

  it("says in plain words that Handout has no record of an unknown share, never that something went wrong", async () => {
    const world = fakeWorld();
    const view = await click(world, "U0ANA", "noSuchShare00000000001");
    expect(view).toContain("Handout has no record of that share.");
    expect(view).not.toContain("went wrong");
  });

  it("refuses someone who is neither the sharer nor an admin", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    const view = await click(world, "U0BOB", ANAS_SHARE);
    expect(view).toContain("Only the person who shared these files, or an admin, can share them again.");
  });

  it("says the policy no longer lets the person share files it has stopped granting", async () => {
    const world = fakeWorld();
    await withAnasShare(world, ["archive/2019.pdf"]);
    const view = await click(world, "U0ANA", ANAS_SHARE);
    expect(view).toContain("The access policy no longer lets you share these files.");
  });

  it("opens nothing more when Slack gives no view for the dialog", async () => {
    const world = fakeWorld();
    await withAnasShare(world);
    const { args, client } = buttonArgs({
      userId: "U0ANA",
      actionId: EXTEND_ACTION,
      value: ANAS_SHARE,
      where: "home",
    });
    (client.client.views as { open: unknown }).open = async () => {
      throw new Error("expired_trigger_id");
    };
    await extendButton(world.ctx)(args);
    expect(client.callsTo("views.update")).toEqual([]);
    expect(world.directory.lookups).toEqual([]);
  });
});
