import { type KeyObject, verify } from "node:crypto";

/** Why a signed URL is refused, as CloudFront would refuse it (it answers 403 to each). */
export type Refusal =
  | "malformed"
  | "unknown-key-pair"
  | "bad-signature"
  | "wrong-resource"
  | "expired"
  | "not-yet-valid";

export type Verdict = { ok: true; resource: string; expiresAt: Date } | { ok: false; reason: Refusal };

interface PolicyStatement {
  Resource?: string;
  Condition?: {
    DateLessThan?: { "AWS:EpochTime"?: number };
    DateGreaterThan?: { "AWS:EpochTime"?: number };
  };
}

const SIGNING_PARAMS = new Set(["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"]);

/** CloudFront's URL-safe base64: `+=/` written as `-_~`. */
const fromUrlSafeBase64 = (text: string): Buffer =>
  Buffer.from(text.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64");

const wildcardMatches = (pattern: string, value: string): boolean => {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "s").test(value);
};

/**
 * Checks a signed URL the way CloudFront does: the signature over the policy (canned or custom) with
 * the named public key, the policy's resource against the URL requested, and its time window.
 */
export function verifySignedUrl(url: string, publicKeys: ReadonlyMap<string, KeyObject>, now: Date): Verdict {
  const queryStart = url.indexOf("?");
  if (queryStart === -1) return { ok: false, reason: "malformed" };
  const params = new Map<string, string>();
  const kept: string[] = [];
  for (const pair of url.slice(queryStart + 1).split("&")) {
    const [name = "", value = ""] = pair.split("=", 2);
    if (SIGNING_PARAMS.has(name)) params.set(name, decodeURIComponent(value));
    else kept.push(pair);
  }
  const resource = url.slice(0, queryStart) + (kept.length > 0 ? `?${kept.join("&")}` : "");
  const signature = params.get("Signature");
  const keyPairId = params.get("Key-Pair-Id");
  if (!signature || !keyPairId) return { ok: false, reason: "malformed" };
  const publicKey = publicKeys.get(keyPairId);
  if (!publicKey) return { ok: false, reason: "unknown-key-pair" };

  let policyText: string;
  const custom = params.get("Policy");
  const expires = params.get("Expires");
  if (custom) {
    policyText = fromUrlSafeBase64(custom).toString("utf8");
  } else if (expires && /^\d+$/.test(expires)) {
    policyText = JSON.stringify({
      Statement: [{ Resource: resource, Condition: { DateLessThan: { "AWS:EpochTime": Number(expires) } } }],
    });
  } else {
    return { ok: false, reason: "malformed" };
  }

  const algorithm = params.get("Hash-Algorithm") === "SHA256" ? "sha256" : "sha1";
  if (!verify(algorithm, Buffer.from(policyText), publicKey, fromUrlSafeBase64(signature))) {
    return { ok: false, reason: "bad-signature" };
  }

  let statement: PolicyStatement | undefined;
  try {
    statement = (JSON.parse(policyText) as { Statement?: PolicyStatement[] }).Statement?.[0];
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const lessThan = statement?.Condition?.DateLessThan?.["AWS:EpochTime"];
  if (!statement?.Resource || typeof lessThan !== "number") return { ok: false, reason: "malformed" };
  if (!wildcardMatches(statement.Resource, resource)) return { ok: false, reason: "wrong-resource" };
  const seconds = Math.floor(now.getTime() / 1000);
  if (seconds >= lessThan) return { ok: false, reason: "expired" };
  const greaterThan = statement.Condition?.DateGreaterThan?.["AWS:EpochTime"];
  if (typeof greaterThan === "number" && seconds < greaterThan) return { ok: false, reason: "not-yet-valid" };
  return { ok: true, resource, expiresAt: new Date(lessThan * 1000) };
}
