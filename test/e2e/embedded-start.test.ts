import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudFrontSigner } from "../../src/signing/cloudfront-signer.js";
import { ensureLocalKeyPair } from "../../src/signing/local-keys.js";
import { parsePrivateKey } from "../../src/signing/private-key.js";
import { childEnv } from "../support/process.js";
import { tempFolder } from "../support/temp.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

/** A port nobody listens on now, so that `handout sign` and the server agree on links' address. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

let server: ChildProcess;
let output = "";
let env: NodeJS.ProcessEnv;
let port: number;
let dir: string;

/** `handout sign` as an operator runs it, with the same settings as the server. */
async function sign(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli.ts", "sign", ...args], {
    cwd: root,
    env,
  });
  return stdout.trim();
}

beforeAll(async () => {
  dir = await tempFolder("embedded");
  port = await freePort();
  // Nothing but the folders: no bucket, no CloudFront, no Slack, no policy file.
  env = childEnv({
    HOME: process.env.HOME,
    PORT: String(port),
    HANDOUT_LOCAL_DIR: join(dir, "files"),
    HANDOUT_STATE_DIR: join(dir, "state"),
    HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
  });
  // The README's run command, in a process group of its own as a terminal would start it: npm starts
  // `node dist/main.js` as its child, and Ctrl-C reaches both.
  server = spawn("npm", ["start"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  server.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  server.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Handout did not start:\n${output}`);
}, 90_000);

/** Whether any process of `npm start`'s group is still there. */
const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Ctrl-C in the terminal: SIGINT to the whole group; waits up to 10 s for every process of it to go. */
async function stopGroup(pid: number): Promise<void> {
  if (!groupAlive(pid)) return;
  process.kill(-pid, "SIGINT");
  for (let i = 0; i < 100 && groupAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

afterAll(async () => {
  if (server?.pid === undefined) return;
  await stopGroup(server.pid);
  if (groupAlive(server.pid)) process.kill(-server.pid, "SIGKILL");
}, 15_000);

describe("the embedded default, from nothing", () => {
  it("starts with no AWS and no Slack, and says which Slack settings would connect it", async () => {
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, slack: "not configured" });
    expect(output).toContain("Slack is not connected: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN");
    expect(output).toContain(`sharing the local folder ${join(dir, "files")}`);
  });

  it("serves a link from `handout sign` over HTTP: the file's exact bytes", async () => {
    const url = await sign("welcome.txt", "--expires", "1h");
    expect(url).toMatch(new RegExp(`^http://localhost:${port}/welcome\\.txt\\?Expires=\\d+&Signature=`));
    const response = await fetch(url.replace("localhost", "127.0.0.1"));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(await readFile(join(dir, "files", "welcome.txt"), "utf8"));
  });

  it("serves files named like its own routes, healthz and slack/…, while /healthz still answers", async () => {
    await mkdir(join(dir, "files", "slack"), { recursive: true });
    await writeFile(join(dir, "files", "healthz"), "a file called healthz");
    await writeFile(join(dir, "files", "slack", "events"), "a file called slack/events");
    for (const [key, text] of [
      ["healthz", "a file called healthz"],
      ["slack/events", "a file called slack/events"],
    ] as const) {
      const url = (await sign(key, "--expires", "1h")).replace("localhost", "127.0.0.1");
      const response = await fetch(url);
      expect(response.status, key).toBe(200);
      expect(await response.text()).toBe(text);
      const unsigned = new URL(url);
      unsigned.search = "";
      // Without a signature the path is the app's own again: the health check, or nothing.
      expect(await (await fetch(unsigned)).text(), key).not.toContain(text);
    }
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toMatchObject({ ok: true });
  });

  it("answers 403 for the same link with a changed byte, for another key, and after its expiry", async () => {
    const url = (await sign("welcome.txt", "--expires", "1h")).replace("localhost", "127.0.0.1");
    const signature = new URL(url).searchParams.get("Signature") as string;
    const changed = url.replace(
      signature,
      `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`,
    );
    expect((await fetch(changed)).status).toBe(403);
    const otherKey = url.replace("/welcome.txt?", "/reports/2026/q1%20summary.txt?");
    expect((await fetch(otherKey)).status).toBe(403);

    // `handout sign` refuses a past expiry, so this link is signed here, with the server's own key.
    const { keyPairId, privateKeyPath } = await ensureLocalKeyPair(join(dir, "state"));
    const privateKey = parsePrivateKey(await readFile(privateKeyPath, "utf8"), privateKeyPath);
    const signer = cloudFrontSigner({
      domain: `localhost:${port}`,
      scheme: "http",
      algorithm: "SHA1",
      signingKey: () => ({ keyPairId, privateKey }),
    });
    const link = (expiresAt: Date) =>
      signer.sign("welcome.txt", { expiresAt }).url.replace("localhost", "127.0.0.1");
    expect((await fetch(link(new Date(Date.now() + 60_000)))).status).toBe(200);
    const past = link(new Date(Date.now() - 1000));
    const expired = await fetch(past);
    expect(expired.status).toBe(403);
    const page = await expired.text();
    expect(page).toContain("This link has expired");
    expect(page).not.toContain(new URL(past).searchParams.get("Signature"));
  });

  it("prints, in its log and in welcome.txt, a sign command that runs as printed", async () => {
    const printed = /Until then `([^`]+)`/.exec(output)?.[1];
    // `npm start` runs the build: its command line is the built one, from the folder it started in.
    expect(printed).toBe("node dist/cli.js sign welcome.txt --expires 1h");
    const welcome = await readFile(join(dir, "files", "welcome.txt"), "utf8");
    expect(welcome).toContain(`from the command line with: ${printed}\n`);
    const { stdout } = await run("/bin/sh", ["-c", printed as string], { cwd: root, env });
    const response = await fetch(stdout.trim().replace("localhost", "127.0.0.1"));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(welcome);
  });

  it("answers the address its log prints with a page: what runs, what it shares, how to go on", async () => {
    expect(output).toContain(`links served at http://localhost:${port}/`);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain("<h1>Handout is running</h1>");
    expect(html).toContain(`It shares the local folder ${join(dir, "files")}, with links served at`);
    expect(html).toContain("<pre>node dist/cli.js sign welcome.txt --expires 1h</pre>");
    expect(html).toContain("Slack is not connected.");
    expect(html).toContain('<a href="/healthz">/healthz</a>');
    // It lists no file, and a link to `/` is still checked as a link.
    expect(html).not.toContain("q1 summary");
    expect((await fetch(`http://127.0.0.1:${port}/?Expires=1&Signature=x&Key-Pair-Id=K1`)).status).toBe(403);
  });

  it("refuses to sign a file that is not in the folder", async () => {
    await expect(sign("nope.txt", "--expires", "1h")).rejects.toMatchObject({
      stderr: expect.stringContaining(`There is no file "nope.txt" in the folder ${join(dir, "files")}`),
    });
  });

  it("stops on Ctrl-C, server and all: nothing is left serving its port", async () => {
    await stopGroup(server.pid as number);
    expect(groupAlive(server.pid as number)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 15_000);
});
