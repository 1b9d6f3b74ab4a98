import type { KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname } from "node:path";
import { pipeline } from "node:stream/promises";
import { decodeKeyPath } from "../domain/object-key.js";
import { openLocalFile } from "../files/local-store.js";
import type { Logger } from "../logger.js";
import { SHARE_ID_PARAM } from "../signing/cloudfront-signer.js";
import { type Refusal, type Verdict, verifySignedUrl } from "./cloudfront-verify.js";

/** Answers a request and returns true, or returns false to leave it to another handler. */
export type LinkHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface LinkHandlerOptions {
  /** The folder served as the bucket. */
  readonly root: string;
  /** Key pair ID → public key: the keys whose signatures are accepted. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  /** `host:port` exactly as signed URLs name it. */
  readonly domain: string;
  readonly scheme: "http" | "https";
  readonly now?: () => Date;
  readonly logger?: Logger;
  /** Whether the share a link carries (its `hid`) was revoked: what CloudFront's revocation function does. */
  readonly isRevoked?: (shareId: string) => Promise<boolean>;
}

const REFUSALS: Record<Refusal, string> = {
  malformed: "This link is malformed: part of it is missing. Copy the whole link, or ask for a new one.",
  "unknown-key-pair":
    "This link's signature is not valid here: it was signed with a key this server does not know. Ask for a new link.",
  "bad-signature": "This link's signature is not valid: the link was changed or copied incompletely.",
  "wrong-resource": "This link's signature is not valid for this file.",
  expired: "This link has expired. Ask whoever shared it for a new one.",
  "not-yet-valid": "This link is not valid yet: try again later.",
  "unsupported-policy":
    "This link asks for conditions this server does not check (such as an address range), so it does not open here. Ask for a new link.",
};

const CONTENT_TYPES: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".mov": "video/quicktime",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

export const contentTypeFor = (key: string): string =>
  CONTENT_TYPES[extname(key).toLowerCase()] ?? "application/octet-stream";

/**
 * RFC 6266 with RFC 5987's `filename*` for the real name, and a plain ASCII `filename` for clients
 * that know only that. `'()*` are not RFC 5987 attr-chars, though encodeURIComponent leaves them.
 */
export function contentDisposition(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

type ByteRange = { readonly start: number; readonly end: number };

/**
 * One `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Several ranges, another unit or bad syntax read as
 * no range (the whole file), which RFC 9110 allows.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | "unsatisfiable" | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}

function answer(res: ServerResponse, head: boolean, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(head ? undefined : body);
}

/** A URL carrying a CloudFront-style signature: health checks and Slack's requests never do. */
export const isSignedLink = (url: string | undefined): boolean => /[?&]Signature=/.test(url ?? "");

/**
 * Serves links in CloudFront's signed-URL format from a folder, checked by CloudFront's rules (see
 * verifySignedUrl). The URL is verified exactly as it arrived, before any decoding: decoding first
 * would let one signature cover several spellings of a path. Claims GET and HEAD on every path but
 * `/healthz` and `/slack/…` without a signature (a key may be named so). Query strings are never
 * logged: they carry the signature.
 */
export function createLinkHandler(options: LinkHandlerOptions): LinkHandler {
  const now = options.now ?? (() => new Date());
  const logger = options.logger;

  const serve = async (req: IncomingMessage, res: ServerResponse, target: string, path: string) => {
    const head = req.method === "HEAD";
    let verdict: Verdict;
    try {
      verdict = verifySignedUrl(`${options.scheme}://${options.domain}${target}`, options.publicKeys, now());
    } catch {
      // A percent-escape that does not decode, in a signing parameter.
      verdict = { ok: false, reason: "malformed" };
    }
    if (!verdict.ok) {
      logger?.info({ status: 403, reason: verdict.reason, path }, "refused a link");
      return answer(res, head, 403, REFUSALS[verdict.reason]);
    }
    const shareId = new URL(verdict.resource).searchParams.get(SHARE_ID_PARAM);
    if (shareId && options.isRevoked && (await options.isRevoked(shareId))) {
      logger?.info({ status: 403, reason: "revoked", path }, "refused a revoked link");
      return answer(res, head, 403, "This link was revoked. Ask the person who shared it for a new one.");
    }

    let key: string | undefined;
    try {
      key = decodeKeyPath(path.slice(1));
    } catch {
      key = undefined;
    }
    // The store refuses keys that are invalid, hidden, or lead outside the folder.
    const file = key === undefined ? undefined : await openLocalFile(options.root, key);
    if (key === undefined || file === undefined) {
      logger?.info({ status: 404, path }, "a link's file is missing");
      return answer(res, head, 404, "This file is no longer there: it may have been moved or deleted.");
    }

    try {
      const { size, lastModified } = file;
      const etag = `"${size.toString(16)}-${Math.floor(lastModified.getTime()).toString(16)}"`;
      const modified = lastModified.toUTCString();
      // A resumed download asks for a range only if the file is still the one it began with.
      const ifRange = req.headers["if-range"];
      const range =
        ifRange === undefined || ifRange === etag || ifRange === modified
          ? parseRange(req.headers.range, size)
          : undefined;
      if (range === "unsatisfiable") {
        res.writeHead(416, { "content-range": `bytes */${size}`, "cache-control": "no-store" });
        res.end();
        return;
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      res.writeHead(range ? 206 : 200, {
        "content-type": contentTypeFor(key),
        "content-length": end - start + 1,
        "content-disposition": contentDisposition(key),
        "cache-control": "private, no-store",
        "accept-ranges": "bytes",
        "last-modified": modified,
        etag,
        "x-content-type-options": "nosniff",
        ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
      });
      logger?.info({ status: range ? 206 : 200, key, bytes: end - start + 1 }, "served a link");
      if (head || end < start) {
        res.end();
        return;
      }
      await pipeline(file.handle.createReadStream({ start, end, autoClose: false }), res);
    } finally {
      await file.handle.close();
    }
  };

  return (req, res) => {
    const target = req.url ?? "";
    const path = target.split("?", 1)[0] ?? "";
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (!path.startsWith("/")) return false;
    if ((path === "/healthz" || path.startsWith("/slack/")) && !isSignedLink(target)) return false;
    serve(req, res, target, path).catch((error: unknown) => {
      // A download the client abandoned ends here too; it is not the server's failure.
      if (res.headersSent) {
        logger?.debug({ err: error, path }, "a download ended early");
        res.destroy();
        return;
      }
      logger?.error({ err: error, path }, "serving a link failed");
      answer(
        res,
        req.method === "HEAD",
        500,
        "Could not read this file. Try again, or tell whoever runs Handout.",
      );
    });
    return true;
  };
}

export interface LinkServerOptions {
  readonly port: number;
  /** Default 127.0.0.1: this machine only. */
  readonly host?: string;
  readonly handler: LinkHandler;
}

export interface RunningLinkServer {
  readonly server: Server;
  /** The port actually listened on (useful with port 0). */
  readonly port: number;
  stop(): Promise<void>;
}

/** A plain HTTP server for the handler; what the handler leaves gets 404. */
export async function startLinkServer(options: LinkServerOptions): Promise<RunningLinkServer> {
  const server = createServer((req, res) => {
    if (!options.handler(req, res)) answer(res, req.method === "HEAD", 404, "Not found.");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
