import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

export const FUNCTION_FILE = fileURLToPath(new URL("../../cloudfront/revocation.js", import.meta.url));
export const source = readFileSync(FUNCTION_FILE, "utf8");
export const IMPORT = /^import cf from ["']cloudfront["'];$/m;

export interface Value {
  value: string;
  multiValue?: { value: string }[];
}
export interface ViewerRequestEvent {
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
export interface GeneratedResponse {
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
export function load(revoked: Set<string>, options: { failing?: boolean } = {}) {
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
export function viewerRequest(querystring: Record<string, Value>): ViewerRequestEvent {
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

/** The viewer request CloudFront hands the function for a signed URL as a browser sends it. */
export function viewerRequestFor(url: string): ViewerRequestEvent {
  const parsed = new URL(url);
  const querystring: Record<string, Value> = {};
  for (const [name, value] of parsed.searchParams) querystring[name] = { value };
  const event = viewerRequest(querystring);
  return { ...event, request: { ...event.request, uri: parsed.pathname } };
}
