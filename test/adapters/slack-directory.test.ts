import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Directory } from "../../src/domain/ports.js";
import { slackDirectory } from "../../src/slack/web/directory.js";
import { captureLogs } from "../support/log.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";

describe("the Slack directory", () => {
  let slack: SlackDouble;
  let clock: number;
  let directory: Directory;

  beforeAll(async () => {
    slack = await startSlackDouble();
    const { users, usergroups, channels } = slack.workspace;
    users.set("U0ANA", { id: "U0ANA", name: "ana" });
    users.set("U0DAN", { id: "U0DAN", name: "dan" });
    channels.set("C0FIN", { id: "C0FIN", name: "finance", members: ["U0ANA", "U0DAN"] });
    channels.set("C0GENERAL", { id: "C0GENERAL", name: "general", members: ["U0ANA", "U0DAN"] });
    usergroups.set("S0AUD", { id: "S0AUD", handle: "auditors", name: "Auditors", users: [] });
  });
  afterAll(() => slack.stop());

  beforeEach(() => {
    slack.reset();
    (slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = ["U0ANA", "U0DAN"];
    clock = 1_000_000;
    directory = slackDirectory({
      client: new WebClient(slack.token, { slackApiUrl: slack.apiUrl }),
      policyChannels: () => ["C0FIN"],
      cacheSeconds: 60,
      logger: captureLogs().logger,
      now: () => clock,
    });
  });

  const groupsOf = async (userId: string) =>
    (await directory.person(userId, { fresh: true })).groups.map((group) => group.handle);

  it("asks Slack once for shares made at the same moment, by one person or several", async () => {
    await Promise.all([
      directory.person("U0ANA", { fresh: true }),
      directory.person("U0ANA", { fresh: true }),
      directory.person("U0DAN", { fresh: true }),
      directory.isMember("C0GENERAL", "U0ANA"),
      directory.isMember("C0GENERAL", "U0DAN"),
    ]);
    expect(slack.callsTo("usergroups.list")).toHaveLength(1);
    expect(slack.callsTo("conversations.members").map((call) => call.args.channel)).toEqual([
      "C0FIN",
      "C0GENERAL",
    ]);
  });

  it("reuses a share's answers for the shares right after it, within Slack's rate limit", async () => {
    for (let i = 0; i < 20; i++) {
      await directory.person("U0ANA", { fresh: true });
      await directory.isMember("C0GENERAL", "U0ANA");
      clock += 1_000;
    }
    // Twenty shares in twenty seconds: one look at the groups and at each conversation.
    expect(slack.callsTo("usergroups.list")).toHaveLength(1);
    expect(slack.callsTo("conversations.members")).toHaveLength(2);
  });

  it("never decides on an answer older than a minute: a person removed from a group a minute ago is out", async () => {
    expect(await groupsOf("U0DAN")).toEqual(["auditors"]);
    (slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = ["U0ANA"];
    (slack.workspace.channels.get("C0GENERAL") as { members: string[] }).members = ["U0ANA"];
    clock += 60_000;
    expect(await groupsOf("U0DAN")).toEqual([]);
    expect(await directory.isMember("C0GENERAL", "U0DAN")).toBe(false);
    (slack.workspace.channels.get("C0GENERAL") as { members: string[] }).members = ["U0ANA", "U0DAN"];
  });

  it("joins no lookup under way that began too long ago for a decision", async () => {
    let release = () => {};
    slack.respond("usergroups.list", async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { ok: true, usergroups: [{ id: "S0AUD", handle: "auditors", users: ["U0DAN"] }] };
    });
    const slow = directory.person("U0DAN");
    await slack.waitFor("usergroups.list");
    clock += 60_000;
    slack.reset();
    (slack.workspace.usergroups.get("S0AUD") as { users: string[] }).users = [];
    expect(await groupsOf("U0DAN")).toEqual([]);
    release();
    await slow;
    // The late answer does not replace the newer one.
    expect(await groupsOf("U0DAN")).toEqual([]);
  });
});
