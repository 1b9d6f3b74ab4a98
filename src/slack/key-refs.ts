import { createHash } from "node:crypto";

/** Slack's limit on an option's value. */
const MAX_VALUE = 150;
const MAX_REMEMBERED = 50_000;

/**
 * Option values for keys. Slack allows 150 characters; an S3 key may be 1,024 bytes. Short keys travel
 * as themselves; longer ones as a hash that this process remembers from when it offered them. Either
 * way the key that comes back is untrusted: the share re-checks it against the policy.
 */
export class KeyRefs {
  private readonly long = new Map<string, string>();

  toValue(key: string): string {
    const direct = `k:${key}`;
    if (direct.length <= MAX_VALUE) return direct;
    const value = `h:${createHash("sha256").update(key).digest("base64url")}`;
    this.long.delete(value);
    this.long.set(value, key);
    if (this.long.size > MAX_REMEMBERED) {
      const oldest = this.long.keys().next().value;
      if (oldest !== undefined) this.long.delete(oldest);
    }
    return value;
  }

  /** The key an option value stands for, or undefined when it is unknown (or forged beyond recognition). */
  fromValue(value: string): string | undefined {
    if (value.startsWith("k:")) return value.slice(2);
    if (value.startsWith("h:")) return this.long.get(value);
    return undefined;
  }
}
