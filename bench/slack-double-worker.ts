import { parentPort } from "node:worker_threads";
import { startSlackDouble } from "../test/support/slack-double.js";

/** The Slack double on a thread of its own, so that its work does not queue behind the app measured. */
const slack = await startSlackDouble();
slack.workspace.users.set("U0ANA", { id: "U0ANA", name: "ana" });
/** People who type /share once each, so that Handout's directory has not met them yet. */
const newcomers = Array.from({ length: 3000 }, (_, i) => `U1${String(i).padStart(6, "0")}`);
for (const id of newcomers) slack.workspace.users.set(id, { id, name: id.toLowerCase() });
slack.workspace.usergroups.set("S0FIN", {
  id: "S0FIN",
  handle: "finance",
  name: "Finance",
  users: ["U0ANA", ...newcomers],
});
slack.workspace.channels.set("C0GENERAL", { id: "C0GENERAL", name: "general", members: ["U0ANA", "UBOT"] });

parentPort?.on("message", async (message: { type: "stop" }) => {
  if (message.type !== "stop") return;
  await slack.stop();
  parentPort?.postMessage({ type: "stopped" });
});
// What was called is not kept: the app under test measures its own calls.
setInterval(() => slack.reset(), 1000).unref();
parentPort?.postMessage({ type: "ready", apiUrl: slack.apiUrl, token: slack.token });
