import type {
  AllMiddlewareArgs,
  BlockAction,
  SlackActionMiddlewareArgs,
  UsersSelectAction,
} from "@slack/bolt";
import { describe, expect, it } from "vitest";
import { homeFilter } from "../../../src/slack/listeners/home.js";
import { DAY_SECONDS, type FakeWorld, fakeWorld, NOW } from "../../support/fakes.js";
import { buttonArgs } from "../../support/slack-args.js";

/** Ana's and Bob's shares, one each. */
async function withShares(world: FakeWorld): Promise<void> {
  for (const [id, sharerId] of [
    ["anasShare000000000001a", "U0ANA"],
    ["bobsShare0000000000001", "U0BOB"],
  ] as const) {
    await world.ledger.record({
      id,
      sharerId,
      keys: ["reports/q1.pdf"],
      channelId: "C0GENERAL",
      mode: "post",
      createdAt: NOW,
      expiresAt: new Date(NOW.getTime() + DAY_SECONDS * 1000),
    });
    await world.ledger.posted(id, { channelId: "C0GENERAL", ts: "1.2", via: "message", pinned: false });
  }
}

/** An admin's choice of whose links to see in App Home, as Bolt passes it. */
async function chooseSharer(
  world: FakeWorld,
  viewerId: string,
  selected: string | undefined,
): Promise<string> {
  const { args, client } = buttonArgs({
    userId: viewerId,
    actionId: "handout_home_filter",
    value: undefined,
    where: "home",
  });
  const action: UsersSelectAction = {
    type: "users_select",
    action_id: "handout_home_filter",
    block_id: "filter",
    action_ts: "1700000000.000200",
    selected_user: selected ?? "",
  };
  const selectArgs = {
    ...args,
    payload: action,
    action,
    body: { ...args.body, actions: [action] },
  } as unknown as AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<UsersSelectAction>>;
  await homeFilter(world.ctx)(selectArgs);
  return JSON.stringify(client.callsTo("views.publish").map((call) => call.args.view));
}

describe("App Home's list of links", () => {
  it("shows an admin the links of the person they chose", async () => {
    const world = fakeWorld();
    await withShares(world);
    const home = await chooseSharer(world, "U0ADA", "U0BOB");
    expect(home).toContain("bobsShare0000000000001");
    expect(home).not.toContain("anasShare000000000001a");
  });

  it("shows anyone else only their own links, whoever they ask for", async () => {
    const world = fakeWorld();
    await withShares(world);
    const home = await chooseSharer(world, "U0ANA", "U0BOB");
    expect(home).toContain("anasShare000000000001a");
    expect(home).not.toContain("bobsShare0000000000001");
  });

  it("shows an admin their own links when the directory cannot say they are one", async () => {
    const world = fakeWorld();
    await withShares(world);
    world.directory.failing = new Error("ratelimited");
    const home = await chooseSharer(world, "U0ADA", "U0ANA");
    expect(home).not.toContain("anasShare000000000001a");
    expect(home).not.toContain("bobsShare0000000000001");
    expect(world.logs.lines()).toContainEqual(
      expect.objectContaining({ msg: "could not look a person up for App Home; showing their own links" }),
    );
  });
});
