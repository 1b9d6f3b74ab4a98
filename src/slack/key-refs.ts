import { createHash } from "node:crypto";

/** Slack's limit on an option's value. */
const MAX_VALUE = 150;
const MAX_REMEMBERED = 50_000;
/** 128 bits of SHA-256, base64url: 22 characters. */
const HASH_LENGTH = 22;
/** The longest start of a key a long key's value carries. */
const PREFIX_ROOM = MAX_VALUE - "p:".length - HASH_LENGTH;
/** How many keys sharing that start a lookup hashes before it gives up. */
const MAX_CANDIDATES = 20_000;

/** Where a process that did not offer a long key finds it again: the bucket index. */
export interface KeyLookup {
  /** Keys that start with `prefix`, in any order. */
  keysStartingWith(prefix: string): Iterable<string>;
}

const hashOf = (key: string) => createHash("sha256").update(key).digest("base64url").slice(0, HASH_LENGTH);

/** The first `room` UTF-16 units of `key`, never ending inside a surrogate pair. */
function startOf(key: string, room: number): string {
  const code = key.charCodeAt(room - 1);
  return key.slice(0, code >= 0xd800 && code <= 0xdbff ? room - 1 : room);
}

/**
 * Option values for keys. Slack allows 150 characters; an S3 key may be 1,024 bytes. Short keys travel
 * as themselves (`k:`). Longer ones travel as a hash of the key followed by as much of its start as
 * fits (`p:`): the process that offered it remembers it, and any other (another replica, a restart)
 * finds it among the indexed keys with that start: from its first request when it started on an
 * index snapshot (HANDOUT_INDEX_SNAPSHOT), else once its own listing has reached them. Either way
 * the key that comes back is untrusted: the share re-checks it against the policy.
 */
export class KeyRefs {
  private readonly long = new Map<string, string>();

  constructor(private readonly lookup?: KeyLookup) {}

  toValue(key: string): string {
    const direct = `k:${key}`;
    if (direct.length <= MAX_VALUE) return direct;
    const value = `p:${hashOf(key)}${startOf(key, PREFIX_ROOM)}`;
    this.remember(value, key);
    return value;
  }

  /** The key an option value stands for, or undefined when it is unknown (or forged beyond recognition). */
  fromValue(value: string): string | undefined {
    if (value.startsWith("k:")) return value.slice(2);
    if (!value.startsWith("p:") || value.length > MAX_VALUE) return undefined;
    const remembered = this.long.get(value);
    if (remembered !== undefined || !this.lookup) return remembered;
    const hash = value.slice(2, 2 + HASH_LENGTH);
    const prefix = value.slice(2 + HASH_LENGTH);
    // Values this class makes carry the whole room (one less when a character would be cut): a shorter
    // start is forged, and would only make the lookup hash more keys.
    if (hash.length < HASH_LENGTH || prefix.length < PREFIX_ROOM - 1) return undefined;
    let seen = 0;
    for (const key of this.lookup.keysStartingWith(prefix)) {
      if (++seen > MAX_CANDIDATES) return undefined;
      if (`k:${key}`.length > MAX_VALUE && hashOf(key) === hash) {
        this.remember(value, key);
        return key;
      }
    }
    return undefined;
  }

  private remember(value: string, key: string): void {
    this.long.delete(value);
    this.long.set(value, key);
    if (this.long.size > MAX_REMEMBERED) {
      const oldest = this.long.keys().next().value;
      if (oldest !== undefined) this.long.delete(oldest);
    }
  }
}
