import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { newShareId } from "../../src/domain/share-id.js";
import {
  FUNCTION_FILE,
  type GeneratedResponse,
  IMPORT,
  load,
  source,
  viewerRequest,
} from "../support/cloudfront-function.js";

const linkFor = (id: string) => viewerRequest({ hid: { value: id } });

describe("revocation function", () => {
  const revokedId = newShareId();
  const liveId = newShareId();

  it("answers 403 for a revoked share's link, and tells the person what to do", async () => {
    const { run, lookups } = load(new Set([revokedId]));
    const response = (await run(linkFor(revokedId))) as GeneratedResponse;
    expect(response.statusCode).toBe(403);
    expect(response.statusDescription).toBe("Forbidden");
    expect(response.body).toEqual({
      encoding: "text",
      data: "This link was revoked. Ask the person who shared it for a new one.",
    });
    // Browsers must not keep the refusal either: a revoke might be undone.
    expect(response.headers["cache-control"]).toEqual({ value: "no-store" });
    expect(response.headers["content-type"]?.value).toMatch(/^text\/plain/);
    expect(lookups).toEqual([revokedId]);
  });

  it("passes a live share's request through untouched", async () => {
    const { run, lookups } = load(new Set([revokedId]));
    const event = linkFor(liveId);
    const before = structuredClone(event.request);
    expect(await run(event)).toBe(event.request);
    expect(event.request).toEqual(before);
    expect(lookups).toEqual([liveId]);
  });

  it("passes requests without a share id, without reading the store", async () => {
    const { run, lookups } = load(new Set([revokedId]));
    const unsigned = viewerRequest({});
    expect(await run(unsigned)).toBe(unsigned.request);
    const noQuery = { ...unsigned, request: { ...unsigned.request, querystring: {} } };
    expect(await run(noQuery)).toBe(noQuery.request);
    expect(lookups).toEqual([]);
  });

  it("refuses when any of several hid values is revoked", async () => {
    const { run } = load(new Set([revokedId]));
    const event = viewerRequest({
      hid: { value: liveId, multiValue: [{ value: liveId }, { value: revokedId }] },
    });
    expect(((await run(event)) as GeneratedResponse).statusCode).toBe(403);
    const allLive = viewerRequest({
      hid: { value: liveId, multiValue: [{ value: liveId }, { value: newShareId() }] },
    });
    expect(await run(allLive)).toBe(allLive.request);
  });

  it("recognises a percent-encoded id", async () => {
    const { run, lookups } = load(new Set(["abc-def_123"]));
    const response = (await run(linkFor("abc%2Ddef%5F123"))) as GeneratedResponse;
    expect(response.statusCode).toBe(403);
    expect(lookups).toEqual(["abc-def_123"]);
  });

  it("refuses a hid that Handout cannot have made, without reading the store", async () => {
    const { run, lookups } = load(new Set());
    for (const hid of ["", "a/b", "x".repeat(129), "%E0%A4%A", "id with spaces"]) {
      const response = (await run(linkFor(hid))) as GeneratedResponse;
      expect(response.statusCode, hid).toBe(403);
      expect(response.body.data).toMatch(/not valid/);
    }
    expect(lookups).toEqual([]);
  });

  it("fails closed when the store cannot be read: 503, try again, and a log line", async () => {
    const { run, logs } = load(new Set(), { failing: true });
    const response = (await run(linkFor(liveId))) as GeneratedResponse;
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toEqual({ value: "30" });
    expect(response.body.data).toMatch(/Try again/);
    expect(logs).toEqual([`revocation check failed for ${liveId}: Error: KeyValueStore unavailable`]);
  });

  it("fits CloudFront Functions' 10 KB limit", () => {
    expect(statSync(FUNCTION_FILE).size).toBeLessThan(10 * 1024);
  });

  it("uses only what the cloudfront-js-2.0 runtime offers", () => {
    // One import, of the runtime's own module, on the first line.
    expect(source.split("\n")[0]).toMatch(IMPORT);
    expect(source.match(/^\s*import\b/gm)).toHaveLength(1);
    // Comments are free to name what the code must not use.
    const code = source.replace(/\/\/.*$/gm, "");
    for (const unsupported of [
      /\?\./,
      /\?\?/,
      /\bfor\s*\([^)]*\bof\b/,
      /\bclass\s/,
      /\brequire\(/,
      /\bexport\b/,
      /\bcatch\s*\{/,
    ]) {
      expect(code).not.toMatch(unsupported);
    }
  });
});
