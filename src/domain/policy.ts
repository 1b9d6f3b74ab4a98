import { keyProblem } from "./object-key.js";
import type { ShareAccess } from "./share.js";

/** Who a rule speaks of. Guests match only where `guests` is true, whatever else names them. */
export interface Audience {
  readonly everyone: boolean;
  /** User group IDs (`S…`) or handles (without `@`, lower case). */
  readonly groups: readonly string[];
  /** Channel IDs whose members are included. */
  readonly channels: readonly string[];
  readonly users: readonly string[];
  readonly guests: boolean;
}

/** Who can open a share's links (the share model's word for it). */
export type OpenAccess = ShareAccess;

/** What a rule lets a sharer choose for "who can open", and which choice is preselected. */
export interface OpenRule {
  /** Never empty. */
  readonly allowed: readonly OpenAccess[];
  readonly preferred: OpenAccess;
}

/** A rule that says nothing about opening: either choice, preselecting today's links. */
export const OPEN_EITHER: OpenRule = { allowed: ["link", "members"], preferred: "link" };

export interface Rule {
  readonly name: string;
  readonly who: Audience;
  /** Folder prefixes, each ending in `/`; the empty string is the whole bucket. */
  readonly prefixes: readonly string[];
  readonly maxExpirySeconds: number;
  readonly defaultExpirySeconds: number;
  readonly announce: boolean;
  readonly open: OpenRule;
  /** Whether guests in the share's conversation may open its members-only links. */
  readonly guestsMayOpen: boolean;
}

export interface AccessPolicy {
  readonly rules: readonly Rule[];
  readonly admins: Audience;
  /** Whom a person without a grant should ask, in the policy's own words. */
  readonly contact: string | undefined;
  /** Whether links may be posted in conversations shared with other organisations (Slack Connect). */
  readonly allowExternalChannels: boolean;
}

export interface UserGroup {
  readonly id: string;
  readonly handle: string;
}

/** A person as the Slack directory reports them: trusted data, never what a payload claims. */
export interface Person {
  readonly userId: string;
  readonly groups: readonly UserGroup[];
  /** The channels, among those the policy names, that this person is a member of. */
  readonly channels: ReadonlySet<string>;
  readonly isGuest: boolean;
}

export interface Grant {
  readonly prefix: string;
  readonly maxExpirySeconds: number;
  readonly defaultExpirySeconds: number;
  readonly rule: string;
  readonly open: OpenRule;
  readonly guestsMayOpen: boolean;
}

/** The "who can open" choices for one share; or why these files cannot be shared together. */
export type OpenChoices =
  | { readonly allowed: readonly OpenAccess[]; readonly preferred: OpenAccess }
  | { readonly problem: string };

export const normalizeGroupHandle = (handle: string): string => handle.replace(/^@/, "").toLowerCase();

export function audienceIncludes(who: Audience, person: Person): boolean {
  if (person.isGuest && !who.guests) return false;
  if (who.everyone) return true;
  if (who.users.includes(person.userId)) return true;
  if (who.channels.some((channel) => person.channels.has(channel))) return true;
  return person.groups.some(
    (group) => who.groups.includes(group.id) || who.groups.includes(normalizeGroupHandle(group.handle)),
  );
}

const covers = (prefix: string, key: string): boolean => key.startsWith(prefix);

/** What one person may do, derived from the policy and their directory entry. Deny by default. */
export class Access {
  constructor(
    readonly grants: readonly Grant[],
    readonly canAnnounce: boolean,
    readonly isAdmin: boolean,
  ) {}

  get canShare(): boolean {
    return this.grants.length > 0;
  }

  /** The grants covering a key; none for a key that cannot be served safely, whatever its prefix. */
  private grantsFor(key: string): Grant[] {
    if (keyProblem(key) !== undefined) return [];
    return this.grants.filter((grant) => covers(grant.prefix, key));
  }

  allows(key: string): boolean {
    return this.grantsFor(key).length > 0;
  }

  /** The longest expiry any rule granting this key allows (the most generous rule wins). */
  maxExpiryFor(key: string): number | undefined {
    const grants = this.grantsFor(key);
    return grants.length === 0 ? undefined : Math.max(...grants.map((g) => g.maxExpirySeconds));
  }

  /** The default expiry for sharing these keys together, never above what every one of them allows. */
  expiryLimitsFor(keys: readonly string[]): { max: number; default: number } | undefined {
    let max = Number.POSITIVE_INFINITY;
    let preferred = Number.POSITIVE_INFINITY;
    for (const key of keys) {
      const grants = this.grantsFor(key);
      if (grants.length === 0) return undefined;
      max = Math.min(max, Math.max(...grants.map((g) => g.maxExpirySeconds)));
      preferred = Math.min(preferred, Math.max(...grants.map((g) => g.defaultExpirySeconds)));
    }
    if (keys.length === 0) return undefined;
    return { max, default: Math.min(preferred, max) };
  }

  /**
   * What "who can open" may be for sharing these keys together. Every rule granting any of them has its
   * say and the strictest wins: a rule forcing members-only links for finance/ forces them whichever
   * other rule also grants the file. Without the gate (`gate: false`) members-only is not on offer.
   */
  openChoicesFor(keys: readonly string[], { gate }: { gate: boolean }): OpenChoices | undefined {
    if (keys.length === 0) return undefined;
    let allowed: OpenAccess[] = ["link", "members"];
    let preferMembers = false;
    const forcing = new Map<OpenAccess, string>();
    for (const key of keys) {
      const grants = this.grantsFor(key);
      if (grants.length === 0) return undefined;
      for (const grant of grants) {
        allowed = allowed.filter((access) => grant.open.allowed.includes(access));
        if (grant.open.preferred === "members") preferMembers = true;
        if (grant.open.allowed.length === 1) forcing.set(grant.open.allowed[0] as OpenAccess, grant.rule);
      }
    }
    if (allowed.length === 0) {
      return {
        problem: `The rule “${forcing.get("members")}” lets these files be opened only by people in the conversation, and the rule “${forcing.get("link")}” only by anyone with the link, so they cannot go in one share. Share them separately.`,
      };
    }
    if (!gate) {
      if (!allowed.includes("link")) {
        return {
          problem: `The rule “${forcing.get("members")}” lets these files be opened only by people in the conversation, and this Handout is not set up for such links (HANDOUT_PUBLIC_URL is not set). Ask whoever runs Handout.`,
        };
      }
      return { allowed: ["link"], preferred: "link" };
    }
    const preferred = preferMembers && allowed.includes("members") ? "members" : (allowed[0] as OpenAccess);
    return { allowed, preferred };
  }

  /**
   * The "who can open" choices before any file is chosen: every choice some grant allows, preferring
   * members-only where any grant does. The files chosen then narrow it (`openChoicesFor`).
   */
  openChoicesAtAll({ gate }: { gate: boolean }): OpenChoices | undefined {
    if (this.grants.length === 0) return undefined;
    if (!gate) return { allowed: ["link"], preferred: "link" };
    const allowed = (["link", "members"] as const).filter((access) =>
      this.grants.some((grant) => grant.open.allowed.includes(access)),
    );
    const preferMembers = this.grants.some((grant) => grant.open.preferred === "members");
    return { allowed, preferred: preferMembers ? "members" : (allowed[0] as OpenAccess) };
  }

  /** Whether guests may open a members-only link to this key: only when every rule granting it says so. */
  guestsMayOpen(key: string): boolean {
    const grants = this.grantsFor(key);
    return grants.length > 0 && grants.every((grant) => grant.guestsMayOpen);
  }

  /** The smallest set of prefixes that covers every grant: what a catalog needs to search. */
  get prefixes(): string[] {
    const unique = [...new Set(this.grants.map((g) => g.prefix))].sort();
    return unique.filter((prefix) => !unique.some((other) => other !== prefix && covers(other, prefix)));
  }
}

export function accessFor(policy: AccessPolicy, person: Person): Access {
  const rules = policy.rules.filter((rule) => audienceIncludes(rule.who, person));
  const grants = rules.flatMap((rule) =>
    rule.prefixes.map((prefix) => ({
      prefix,
      maxExpirySeconds: rule.maxExpirySeconds,
      defaultExpirySeconds: rule.defaultExpirySeconds,
      rule: rule.name,
      open: rule.open,
      guestsMayOpen: rule.guestsMayOpen,
    })),
  );
  return new Access(
    grants,
    rules.some((rule) => rule.announce),
    audienceIncludes(policy.admins, person),
  );
}

/** What the gate needs to know, at the moment of an open, about one file of a members-only share. */
export interface GateRule {
  readonly guestsMayOpen: boolean;
}

/**
 * The policy's word on opening `key` from a members-only share by `sharer` (as the directory reports
 * them now): undefined when the sharer may no longer share that file, so its links must not open.
 * Members-only is the stricter choice, so a rule that now prefers or forces plain links does not close it.
 */
export function gateRuleFor(policy: AccessPolicy, sharer: Person, key: string): GateRule | undefined {
  const access = accessFor(policy, sharer);
  if (!access.allows(key)) return undefined;
  return { guestsMayOpen: access.guestsMayOpen(key) };
}
