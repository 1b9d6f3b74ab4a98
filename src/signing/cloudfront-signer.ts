import type { KeyObject } from "node:crypto";
import { getSignedCookies } from "@aws-sdk/cloudfront-signer";
import type { SignatureAlgorithm } from "../config/config.js";
import { toWholeSecond } from "../domain/expiry.js";
import { encodeKeyPath } from "../domain/object-key.js";
import type { LinkSigner, SignedLink } from "../domain/ports.js";

export interface SigningKey {
  readonly keyPairId: string;
  readonly privateKey: KeyObject;
}

export interface CloudFrontSignerOptions {
  /** The distribution's domain, optionally with a port: `d111111abcdef8.cloudfront.net`. */
  readonly domain: string;
  readonly algorithm: SignatureAlgorithm;
  /** The key to sign with now; a provider, so that a rotated key is used as soon as it is loaded. */
  readonly signingKey: () => SigningKey;
  /** `https` for CloudFront; `http` only for a local link server. */
  readonly scheme?: "https" | "http";
}

/** The query parameter that carries a link's share id; the revocation function reads it. */
export const SHARE_ID_PARAM = "hid";

const SHARE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The one place that turns a key (and its share id) into a URL, before signing. */
export function resourceUrl(scheme: string, domain: string, key: string, shareId?: string): string {
  const base = `${scheme}://${domain}/${encodeKeyPath(key)}`;
  if (shareId === undefined) return base;
  if (!SHARE_ID.test(shareId)) throw new Error("A share id is 1 to 64 URL-safe characters.");
  return `${base}?${SHARE_ID_PARAM}=${shareId}`;
}

/**
 * Signs CloudFront URLs. The URL is built here rather than by the SDK, whose path encoding has changed
 * between releases: the SDK only signs the policy (through getSignedCookies, which takes the resource as
 * given), and the query string is assembled from its parts.
 */
export function cloudFrontSigner(options: CloudFrontSignerOptions): LinkSigner {
  const scheme = options.scheme ?? "https";
  return {
    sign(key, { expiresAt, startsAt, shareId }): SignedLink {
      // The share id is part of the signed resource: removing or changing it breaks the signature.
      const resource = resourceUrl(scheme, options.domain, key, shareId);
      const expires = toWholeSecond(expiresAt);
      const starts = startsAt ? toWholeSecond(startsAt) : undefined;
      const { keyPairId, privateKey } = options.signingKey();
      const signed = getSignedCookies({
        url: resource,
        keyPairId,
        // The SDK passes the key straight to crypto.Sign, which takes a parsed KeyObject; its types
        // say string | Buffer only. Parsing the PEM once instead of per signature is about 3× faster.
        privateKey: privateKey as unknown as string,
        dateLessThan: expires,
        dateGreaterThan: starts,
        algorithm: options.algorithm,
      });
      const params: [string, string | number | undefined][] = [
        starts ? ["Policy", signed["CloudFront-Policy"]] : ["Expires", signed["CloudFront-Expires"]],
        ["Signature", signed["CloudFront-Signature"]],
        ["Key-Pair-Id", signed["CloudFront-Key-Pair-Id"]],
        ["Hash-Algorithm", signed["CloudFront-Hash-Algorithm"]],
      ];
      const query = params
        .filter((param): param is [string, string | number] => param[1] !== undefined)
        .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
        .join("&");
      return {
        url: `${resource}${resource.includes("?") ? "&" : "?"}${query}`,
        key,
        expiresAt: expires,
        ...(starts ? { startsAt: starts } : {}),
      };
    },
  };
}
