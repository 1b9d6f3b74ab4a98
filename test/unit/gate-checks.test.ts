import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkGateManifest, checkGateReachable, gateCallbackUrl } from "../../src/doctor/gate-checks.js";
import { tempFolder } from "../support/temp.js";

describe("the doctor's checks of the gate", () => {
  let server: Server;
  let publicUrl: string;
  let dir: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.statusCode = request.url === "/healthz" ? 200 : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await tempFolder("gate-doctor");
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const deps = (manifest = "manifest.yml") => ({ fetch, timeoutMs: 5000, manifestFile: join(dir, manifest) });

  it("passes when the public address answers /healthz", async () => {
    expect(await checkGateReachable(publicUrl, deps())).toMatchObject({ ok: true });
  });

  it("fails, saying how, when the public address does not reach Handout", async () => {
    const wrong = await checkGateReachable(`${publicUrl}/elsewhere`, deps());
    expect(wrong).toMatchObject({ ok: false, detail: expect.stringContaining("answered 404") });
    const closed = await checkGateReachable("http://127.0.0.1:1", deps());
    expect(closed).toMatchObject({ ok: false, detail: expect.stringContaining("could not connect") });
  });

  it("passes a manifest listing the redirect URL and the openid and profile user scopes", async () => {
    await writeFile(
      join(dir, "manifest.yml"),
      `oauth_config:\n  redirect_urls: [${gateCallbackUrl(publicUrl)}]\n  scopes:\n    user: [openid, profile]\n`,
    );
    expect(await checkGateManifest(publicUrl, deps())).toMatchObject({ ok: true });
  });

  it("fails a manifest without the redirect URL, naming the URL to add", async () => {
    await writeFile(
      join(dir, "other.yml"),
      "oauth_config:\n  redirect_urls: [https://handout.example.com/o/callback]\n  scopes:\n    user: [openid, profile]\n",
    );
    expect(await checkGateManifest(publicUrl, deps("other.yml"))).toMatchObject({
      ok: false,
      fix: `Add ${publicUrl}/o/callback to oauth_config.redirect_urls, then update the Slack app from the manifest.`,
    });
  });

  it("fails a manifest without the user scopes", async () => {
    await writeFile(
      join(dir, "scopes.yml"),
      `oauth_config:\n  redirect_urls: [${gateCallbackUrl(publicUrl)}]\n  scopes:\n    user: [openid]\n`,
    );
    expect(await checkGateManifest(publicUrl, deps("scopes.yml"))).toMatchObject({
      ok: false,
      detail: "manifest.yml lacks the user scope profile",
    });
  });

  it("says what to check in Slack when there is no manifest to read", async () => {
    expect(await checkGateManifest(publicUrl, deps("absent.yml"))).toMatchObject({
      ok: "skipped",
      detail: expect.stringContaining(`${publicUrl}/o/callback under OAuth & Permissions → Redirect URLs`),
    });
  });
});
