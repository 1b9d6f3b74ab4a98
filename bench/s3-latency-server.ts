import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListedObject } from "../src/search/lister.js";

/**
 * A bucket over loopback HTTP that answers ListObjectsV2 and HeadObject, each after `latencyMs`: a
 * stand-in for S3's round trip that a child process reaches as it reaches S3. Bench code only.
 */
export interface LatencyBucket {
  readonly endpoint: string;
  readonly name: string;
  /** ListObjectsV2 requests answered so far. */
  readonly listRequests: () => number;
  stop(): Promise<void>;
}

// The corpus has no control characters, which XML 1.0 cannot carry at all.
const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// S3's encoding-type=url form-encodes: a space is `+`.
const urlEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+").replace(/%2F/g, "/");

/** The first index in `keys` (sorted) whose key is not below `key`. */
function lowerBound(keys: readonly ListedObject[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as ListedObject).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index at or after `from` whose key does not start with `prefix` (they are contiguous). */
function pastPrefix(keys: readonly ListedObject[], prefix: string, from: number): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as ListedObject).key.slice(0, prefix.length) <= prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const contentsXml = (object: ListedObject, at: number, encode: (text: string) => string) =>
  `<Contents><Key>${encode(object.key)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified><ETag>&quot;${at.toString(16).padStart(32, "0")}&quot;</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;

function listObjectsV2(
  objects: readonly ListedObject[],
  urlEncoded: readonly string[],
  bucket: string,
  query: URLSearchParams,
): string {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get("max-keys") ?? 1000) || 0));
  const token = query.get("continuation-token");
  const startAfter = query.get("start-after") ?? "";
  const url = query.get("encoding-type") === "url";
  const encode = (text: string) => (url ? urlEncode(text) : escapeXml(text));
  // The token is the key to resume at, as S3's are opaque to the client.
  let at = token
    ? lowerBound(objects, Buffer.from(token, "base64url").toString("utf8"))
    : Math.max(lowerBound(objects, prefix), startAfter ? lowerBound(objects, `${startAfter}\u0000`) : 0);
  const contents: string[] = [];
  const folders: string[] = [];
  while (at < objects.length && contents.length + folders.length < maxKeys) {
    const object = objects[at] as ListedObject;
    if (!object.key.startsWith(prefix)) {
      at = objects.length;
      break;
    }
    const cut = delimiter ? object.key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      const folder = object.key.slice(0, cut + delimiter.length);
      folders.push(`<CommonPrefixes><Prefix>${encode(folder)}</Prefix></CommonPrefixes>`);
      at = pastPrefix(objects, folder, at);
      continue;
    }
    contents.push(url ? (urlEncoded[at] as string) : contentsXml(object, at, encode));
    at++;
  }
  const truncated = at < objects.length && (objects[at] as ListedObject).key.startsWith(prefix);
  const next = truncated ? Buffer.from((objects[at] as ListedObject).key).toString("base64url") : undefined;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
    `<Name>${escapeXml(bucket)}</Name><Prefix>${encode(prefix)}</Prefix>`,
    delimiter ? `<Delimiter>${encode(delimiter)}</Delimiter>` : "",
    url ? "<EncodingType>url</EncodingType>" : "",
    `<KeyCount>${contents.length + folders.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    `<IsTruncated>${truncated}</IsTruncated>`,
    token ? `<ContinuationToken>${token}</ContinuationToken>` : "",
    next ? `<NextContinuationToken>${next}</NextContinuationToken>` : "",
    ...contents,
    ...folders,
    "</ListBucketResult>",
  ].join("");
}

/** Serves `objects` (sorted by key) as bucket `name`, path-style, each answer `latencyMs` late. */
export async function startLatencyBucket(
  objects: readonly ListedObject[],
  latencyMs: number,
  name = "handout-bench",
): Promise<LatencyBucket> {
  let lists = 0;
  // Written once, so that serving a page costs this process little: it shares the cores with the app.
  const urlEncoded = objects.map((object, at) => contentsXml(object, at, urlEncode));
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://bucket");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    if (bucket !== name) {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<Error><Code>NoSuchBucket</Code></Error>");
    } else if (req.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") {
      lists++;
      res.writeHead(200, { "content-type": "application/xml" });
      res.end(listObjectsV2(objects, urlEncoded, name, url.searchParams));
    } else if (req.method === "HEAD" && key !== "") {
      const at = lowerBound(objects, key);
      const object = objects[at];
      if (object?.key !== key) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, {
        "content-length": object.size,
        "last-modified": new Date(object.lastModified).toUTCString(),
        etag: `"${at.toString(16).padStart(32, "0")}"`,
      });
      res.end();
    } else if (req.method === "HEAD" && key === "") {
      res.writeHead(200);
      res.end();
    } else {
      res.writeHead(501, { "content-type": "application/xml" });
      res.end("<Error><Code>NotImplemented</Code></Error>");
    }
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => answer(req, res), latencyMs));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    name,
    listRequests: () => lists,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
