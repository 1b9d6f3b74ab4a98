import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { newShareId } from "../src/domain/ledger.js";

const FUNCTION_FILE = fileURLToPath(new URL("../cloudfront/revocation.js", import.meta.url));
const source = readFileSync(FUNCTION_FILE, "utf8");
const IMPORT = /^import cf from ["']cloudfront["'];$/m;

interface Value {
  value: string;
  multiValue?: { value: string }[];
}
interface ViewerRequestEvent {
  version: "1.0";
  context: {
    eventType: "viewer-request";
    distributionDomainName: string;
    distributionId: string;
    requestId: string;
  };
  viewer: { ip: string };
  request: {
    method: string;
    uri: string;
    querystring: Record<string, Value>;
    headers: Record<string, Value>;
    cookies: Record<string, Value>;
  };
}
interface GeneratedResponse {
  statusCode: number;
  statusDescription: string;
  headers: Record<string, { value: string }>;
  body: { encoding: string; data: string };
}

/**
 * The function as CloudFront runs it: its own realm, holding only the standard JavaScript built-ins,
 * a `cloudfront` module whose KeyValueStore is a Set, and console. No require, process or Buffer: a
 * function that reached for Node would throw here.
 */
function load(revoked: Set<string>, options: { failing?: boolean } = {}) {
  const lookups: string[] = [];
  const logs: string[] = [];
  const kvs = {
    async exists(key: string) {
      lookups.push(key);
      if (options.failing) throw new Error("KeyValueStore unavailable");
      return revoked.has(key);
    },
    async get(key: string) {
      if (!revoked.has(key)) throw new Error(`key not found: ${key}`);
      return "2030-01-01T00:00:00.000Z";
    },
  };
  const context = vm.createContext({
    cf: { kvs: () => kvs },
    console: { log: (message: unknown) => logs.push(String(message)) },
  });
  const handler = vm.runInContext(`${source.replace(IMPORT, "")}\nhandler;`, context, {
    filename: FUNCTION_FILE,
  }) as (event: ViewerRequestEvent) => Promise<unknown>;
  // Plain objects from this realm, so that assertions compare values, not prototypes.
  const run = async (event: ViewerRequestEvent) => {
    const result = await handler(event);
    return result === event.request ? result : (JSON.parse(JSON.stringify(result)) as GeneratedResponse);
  };
  return { run, lookups, logs };
}

/** A viewer request for a signed link, as CloudFront hands it to the function. */
function viewerRequest(querystring: Record<string, Value>): ViewerRequestEvent {
  return {
    version: "1.0",
    context: {
      eventType: "viewer-request",
      distributionDomainName: "d111111abcdef8.cloudfront.net",
      distributionId: "EDFDVBD6EXAMPLE",
      requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
    },
    viewer: { ip: "198.51.100.7" },
    request: {
      method: "GET",
      uri: "/reports/q1%20results.pdf",
      querystring: {
        Expires: { value: "1893456000" },
        Signature: { value: "abcDEF~ghi_" },
        "Key-Pair-Id": { value: "K2JCJMDEHXQW5F" },
        ...querystring,
      },
      headers: { host: { value: "d111111abcdef8.cloudfront.net" }, accept: { value: "*/*" } },
      cookies: {},
    },
  };
}

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
