import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureSessionSecret } from "../../src/app/session-secret.js";
import { nodeGateHandler } from "../../src/links/gate/node-http.js";
import { captureLogs } from "../support/log.js";
import { tempFolder } from "../support/temp.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: ReturnType<typeof nodeGateHandler>): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("the gate on Node's HTTP server", () => {
  it("sends the gate's answer with every Set-Cookie header it gives", async () => {
    const base = await serve(
      nodeGateHandler(
        async () => ({
          status: 302,
          headers: { location: "/o/x/0", "set-cookie": ["a=1; Path=/o", "b=2; Path=/o"] },
          body: undefined,
        }),
        captureLogs().logger,
      ),
    );
    const answer = await fetch(`${base}/o/callback?code=c&state=s`, { redirect: "manual" });
    expect(answer.status).toBe(302);
    expect(answer.headers.getSetCookie()).toEqual(["a=1; Path=/o", "b=2; Path=/o"]);
  });

  it("answers a failed check with a page that opens nothing, and logs no query string", async () => {
    const logs = captureLogs();
    const base = await serve(
      nodeGateHandler(async () => {
        throw new Error("Slack did not answer");
      }, logs.logger),
    );
    const answer = await fetch(`${base}/o/callback?code=one-time-code&state=s`, { redirect: "manual" });
    expect(answer.status).toBe(503);
    expect(await answer.text()).toContain("Nothing was opened");
    expect(logs.text()).toContain("the members-only gate failed");
    expect(logs.text()).not.toContain("one-time-code");
  });
});

describe("the embedded default's session secret", () => {
  it("is made once, readable by its owner alone, and the same after a restart", async () => {
    const dir = join(await tempFolder("session-secret"), "state");
    const first = await ensureSessionSecret(dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(dir, "session-secret"))).mode & 0o777).toBe(0o600);
    expect(await ensureSessionSecret(dir)).toBe(first);
  });
});
