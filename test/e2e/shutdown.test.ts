import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLedger } from "../../src/app/wiring.js";
import { SHARE_ID_PARAM } from "../../src/signing/cloudfront-signer.js";
import {
  answered,
  buttonsOf,
  DAY,
  filledView,
  flow,
  type Harness,
  startHarness,
  type View,
} from "../support/handout-harness.js";
import {
  delay,
  type SocketModeServer,
  shareCommandPayload,
  startSocketModeServer,
  until,
} from "../support/socket-mode.js";

/**
 * What `docker stop` does to a share under way: SIGTERM (here `stop()`, which main.ts's SIGTERM handler
 * calls) a millisecond after the person was told "Sharing…". The share is finished and its outcome
 * shown; or, once the grace period runs out, stopped where it safely can be and the person told.
 */

/** Slack answers `method` only after `ms`, so that the share is still under way when the signal comes. */
const slow = (h: Harness, method: string, ms: number) =>
  h.slack.respond(method, async (_call, fallback) => {
    await delay(ms);
    return fallback();
  });

/**
 * `/share` and a submission over the socket, with Slack slow to take the post: resolves a millisecond
 * after the person was told "Sharing…", with the modal.
 */
async function acknowledgedShare(h: Harness, s: SocketModeServer, trigger: string): Promise<View> {
  await s.send("slash_commands", shareCommandPayload("", trigger, h.slack.responseUrl(trigger)));
  const { view } = await filledView(
    h,
    await h.slack.waitFor("views.open", (call) => call.args.trigger_id === trigger),
  );
  slow(h, "chat.postMessage", 300);
  const ack = await s.send(
    "interactive",
    flow(h).submission(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY }),
  );
  expect(JSON.stringify(ack.payload)).toContain("Sharing…");
  await delay(1);
  return view;
}

const sharesIn = async (h: Harness) => {
  const ledger = await openLedger({ kind: "sqlite", path: join(h.dir, "handout.db") });
  try {
    return await ledger.list();
  } finally {
    await ledger.close();
  }
};

/**
 * The modal of work stuck in a call to Slack when the grace period ran out says where to look; when
 * Slack's answer comes at last, the work goes no further.
 */
async function expectCutOff(h: Harness, view: View): Promise<void> {
  const said = await flow(h).outcome(view);
  expect(said).toContain("Handout had to stop (it is restarting) while this share was under way.");
  expect(said).toContain("Your links");
  await answered(await h.slack.waitFor("users.info"));
  await delay(100);
  expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
}

let socket: SocketModeServer | undefined;
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  await socket?.stop();
  harness = undefined;
  socket = undefined;
});

describe("stopping in Socket Mode", () => {
  it("finishes a share acknowledged a millisecond before the signal: posted, recorded, and its outcome shown", async () => {
    socket = await startSocketModeServer();
    const s = socket;
    const h = await startHarness(
      { SLACK_APP_TOKEN: "xapp-test", SLACK_SIGNING_SECRET: undefined },
      (slack) => {
        slack.workspace.socketModeUrl = s.url;
      },
    );
    harness = h;
    await s.connected();
    const view = await acknowledgedShare(h, s, "3001.1.stop");
    const stopped = h.handout.stop();

    // No new work once stopping: Slack's next envelope is not taken.
    await expect(
      s.send("slash_commands", shareCommandPayload("help", "3001.2.late", h.slack.responseUrl("late")), 500),
    ).rejects.toThrow();
    expect(await flow(h).outcome(view)).toContain("Shared the file in <#C0GENERAL>");
    await stopped;
    expect(h.slack.messages.filter((m) => m.channel === "C0GENERAL")).toHaveLength(1);
    await s.disconnected();
    const shares = await sharesIn(h);
    expect(shares.map((share) => share.state)).toEqual(["active"]);
  });
});

describe("SIGTERM to the running process (node src/main.ts)", () => {
  // Starting a child under tsx takes seconds on a busy machine.
  it("exits 0 after posting a share acknowledged a millisecond before the signal, and showing its outcome", {
    timeout: 60_000,
  }, async () => {
    socket = await startSocketModeServer();
    // The harness's own Handout (HTTP mode) stays idle; the child takes the Slack double's Socket Mode.
    const h = await startHarness();
    harness = h;
    h.slack.workspace.socketModeUrl = socket.url;
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        ...h.env,
        SLACK_APP_TOKEN: "xapp-test",
        SLACK_SIGNING_SECRET: "",
        PORT: "0",
        HANDOUT_LEDGER: `sqlite:${join(h.dir, "child.db")}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const exited = once(child, "exit");
    try {
      await socket.connected(1, 20_000);
      await until(() => socket?.greeted === 1, "the child was not greeted");
      const view = await acknowledgedShare(h, socket, "3101.1.sigterm");
      child.kill("SIGTERM");
      expect(await flow(h).outcome(view)).toContain("Shared the file in <#C0GENERAL>");
      const [code, signal] = await exited;
      expect({ code, signal }, output).toEqual({ code: 0, signal: null });
      expect(output).toContain("stopping: no new work; the work under way finishes first");
      expect(h.slack.messages.filter((m) => m.channel === "C0GENERAL")).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

describe("stopping in HTTP mode", () => {
  it("finishes a share acknowledged a millisecond before the signal, and takes no new connections meanwhile", async () => {
    const h = await startHarness();
    harness = h;
    const { view } = await flow(h).share("U0ANA", "C0GENERAL");
    slow(h, "chat.postMessage", 300);
    const ack = await flow(h).submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY });
    expect(ack.status).toBe(200);
    expect(JSON.stringify(ack.body)).toContain("Sharing…");
    await delay(1);
    const stopped = h.handout.stop();

    await expect(fetch(`http://127.0.0.1:${h.handout.port}/healthz`)).rejects.toThrow();
    expect(await flow(h).outcome(view)).toContain("Shared the file in <#C0GENERAL>");
    await stopped;
    expect(h.slack.messages.filter((m) => m.channel === "C0GENERAL")).toHaveLength(1);
    expect((await sharesIn(h)).map((share) => share.state)).toEqual(["active"]);
  });
});

describe("a shutdown whose grace period runs out", () => {
  it("stops a share before it is recorded or posted, and tells the person to share again", async () => {
    const h = await startHarness({ HANDOUT_SHUTDOWN_GRACE: "0s" });
    harness = h;
    const { view } = await flow(h).share("U0ANA", "C0GENERAL");
    // The share asks Slack afresh who the person is; the answer comes after the grace period.
    slow(h, "users.info", 200);
    const ack = await flow(h).submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY });
    expect(ack.status).toBe(200);
    await delay(1);
    await h.handout.stop();
    const said = await flow(h).outcome(view);
    expect(said).toContain("Nothing was shared.");
    expect(said).toContain(
      "Handout had to stop (it is restarting) before it could post this: try again in a minute.",
    );
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect(await sharesIn(h)).toEqual([]);
  });

  it("tells the person where to look when an extension is stuck in a call to Slack as Handout stops", async () => {
    const h = await startHarness({ HANDOUT_SHUTDOWN_GRACE: "0s" });
    harness = h;
    const { view: form } = await flow(h).share("U0ANA", "C0GENERAL");
    await flow(h).submit(form, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY });
    await flow(h).outcome(form);
    const posted = await h.slack.waitFor("chat.postMessage");
    const shareId = new URL(buttonsOf(posted)[0] as string).searchParams.get(SHARE_ID_PARAM) as string;
    const view = await flow(h).openExtend("U0ANA", shareId);
    // Past the directory's reuse of what was looked up so far: the extension asks Slack afresh.
    h.clock.advance(61_000);
    h.slack.reset();
    slow(h, "users.info", 2000);
    await flow(h).submitExtend("U0ANA", view, DAY);
    await delay(1);
    await h.handout.stop();
    await expectCutOff(h, view);
  });

  it("tells the person where to look when a share is stuck in a call to Slack as Handout stops", async () => {
    const h = await startHarness({ HANDOUT_SHUTDOWN_GRACE: "0s" });
    harness = h;
    const { view } = await flow(h).share("U0ANA", "C0GENERAL");
    // Past the directory's reuse of what opening the form looked up: the share asks Slack afresh.
    h.clock.advance(61_000);
    slow(h, "users.info", 2000);
    await flow(h).submit(view, "U0ANA", { files: ["k:reports/q1 2026.pdf"], expirySeconds: DAY });
    await delay(1);
    const started = Date.now();
    await h.handout.stop();
    // No grace period, and a moment for the last word: not the two seconds Slack takes.
    expect(Date.now() - started).toBeLessThan(1500);
    await expectCutOff(h, view);
    expect(await sharesIn(h)).toEqual([]);
  });
});
