import { type KeyObject, verify } from "node:crypto";

/** Why a signed URL is refused, as CloudFront would refuse it (it answers 403 to each). */
export type Refusal =
  | "malformed"
  | "unknown-key-pair"
  | "bad-signature"
  | "wrong-resource"
  | "expired"
  | "not-yet-valid"
  | "unsupported-policy";

export type Verdict = { ok: true; resource: string; expiresAt: Date } | { ok: false; reason: Refusal };

/** What a policy's one statement says, in the parts this verifier evaluates. */
interface PolicyStatement {
  readonly resource: string;
  readonly lessThan: number;
  readonly greaterThan: number | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const onlyKeys = (value: Record<string, unknown>, allowed: readonly string[]): boolean =>
  Object.keys(value).every((key) => allowed.includes(key));

/**
 * The policy's one statement; "unsupported" when the policy holds anything this verifier does not
 * evaluate (an IpAddress condition, a second statement), since serving it would grant what the policy
 * withholds. CloudFront evaluates those; Handout never signs them.
 */
function readStatement(policyText: string): PolicyStatement | "malformed" | "unsupported" {
  let policy: unknown;
  try {
    policy = JSON.parse(policyText);
  } catch {
    return "malformed";
  }
  if (!isRecord(policy) || !Array.isArray(policy.Statement)) return "malformed";
  if (!onlyKeys(policy, ["Statement"]) || policy.Statement.length !== 1) return "unsupported";
  const statement: unknown = policy.Statement[0];
  if (!isRecord(statement) || !isRecord(statement.Condition)) return "malformed";
  const { Resource: resource, Condition: condition } = statement;
  if (!onlyKeys(statement, ["Resource", "Condition"])) return "unsupported";
  if (!onlyKeys(condition, ["DateLessThan", "DateGreaterThan"])) return "unsupported";
  const times = [condition.DateLessThan, condition.DateGreaterThan];
  if (times.some((time) => isRecord(time) && !onlyKeys(time, ["AWS:EpochTime"]))) return "unsupported";
  const [lessThan, greaterThan] = times.map((time) =>
    isRecord(time) ? time["AWS:EpochTime"] : time === undefined ? undefined : null,
  );
  if (typeof resource !== "string" || resource === "" || typeof lessThan !== "number") return "malformed";
  if (greaterThan !== undefined && typeof greaterThan !== "number") return "malformed";
  return { resource, lessThan, greaterThan };
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

  const statement = readStatement(policyText);
  if (statement === "malformed") return { ok: false, reason: "malformed" };
  if (statement === "unsupported") return { ok: false, reason: "unsupported-policy" };
  const { lessThan, greaterThan } = statement;
  if (!wildcardMatches(statement.resource, resource)) return { ok: false, reason: "wrong-resource" };
  const seconds = Math.floor(now.getTime() / 1000);
  if (seconds >= lessThan) return { ok: false, reason: "expired" };
  if (greaterThan !== undefined && seconds < greaterThan) return { ok: false, reason: "not-yet-valid" };
  return { ok: true, resource, expiresAt: new Date(lessThan * 1000) };
}
