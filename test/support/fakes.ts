import { isSameShare, type ShareLedger, type ShareQuery, shareIdTaken } from "../../src/domain/ledger.js";
import {
  type AccessPolicy,
  type Audience,
  OPEN_EITHER,
  type Person,
  type Rule,
} from "../../src/domain/policy.js";
import type {
  Conversation,
  Directory,
  FileCatalog,
  FileInfo,
  FileSearch,
  LinkSigner,
  MessageEdit,
  Poster,
  Share,
  ShareMessages,
} from "../../src/domain/ports.js";
import {
  LIVE_STATES,
  type NewShare,
  type Posted,
  REPLACEABLE_STATES,
  REVOCABLE_STATES,
  type ShareOpen,
  type ShareRecord,
  type ShareState,
  type Transition,
  unknownShare,
} from "../../src/domain/share.js";
import type { LifeDependencies } from "../../src/domain/use-cases/dependencies.js";
import type { HandoutContext } from "../../src/slack/context.js";
import { KeyRefs } from "../../src/slack/key-refs.js";
import { MetadataSeal } from "../../src/slack/metadata.js";
import { responseUrlCheck } from "../../src/slack/web/response-url.js";
import { captureLogs } from "./log.js";

/** In-memory fakes of the ports, with the ports' documented semantics, for tests that start no app. */

export const NOW = new Date("2031-03-04T10:00:00Z");
export const DAY_SECONDS = 86_400;

const nobody: Audience = { everyone: false, groups: [], channels: [], users: [], guests: false };
export const audience = (parts: Partial<Audience>): Audience => ({ ...nobody, ...parts });

export const rule = (parts: Partial<Rule> & Pick<Rule, "who" | "prefixes">): Rule => ({
  name: "test rule",
  maxExpirySeconds: 30 * DAY_SECONDS,
  defaultExpirySeconds: 7 * DAY_SECONDS,
  announce: false,
  open: OPEN_EITHER,
  guestsMayOpen: false,
  ...parts,
});

/** Ana may share reports/ for up to 30 days and announce; Bob may share reports/ for a day; Ada administers. */
export const testPolicy = (): AccessPolicy => ({
  rules: [
    rule({ who: audience({ users: ["U0ANA"] }), prefixes: ["reports/"], announce: true }),
    rule({ who: audience({ users: ["U0BOB"] }), prefixes: ["reports/"], maxExpirySeconds: DAY_SECONDS }),
  ],
  admins: audience({ users: ["U0ADA"] }),
  contact: undefined,
  allowExternalChannels: false,
});

const person = (userId: string): Person => ({ userId, groups: [], channels: new Set(), isGuest: false });

export interface FakeDirectory extends Directory {
  /** Lookups made, with whether each asked for a fresh answer. */
  readonly lookups: { userId: string; fresh: boolean }[];
  /** Set to make every lookup of a person fail. */
  failing: Error | undefined;
  /** Conversations (by id) whose members do not include anyone asked about. */
  readonly outsiders: Set<string>;
}

/** Everyone is a plain member of every conversation in `conversations` (default: C0GENERAL and C0RANDOM), except `outsiders`. */
export function fakeDirectory(
  conversations: readonly Conversation[] = [generalChannel, { ...generalChannel, id: "C0RANDOM" }],
): FakeDirectory {
  const directory: FakeDirectory = {
    lookups: [],
    failing: undefined,
    outsiders: new Set(),
    async person(userId, options) {
      directory.lookups.push({ userId, fresh: options?.fresh === true });
      if (directory.failing) throw directory.failing;
      return person(userId);
    },
    known: (userId) => person(userId),
    conversation: async (channelId) => conversations.find((c) => c.id === channelId),
    isMember: async (channelId) =>
      conversations.some((c) => c.id === channelId) && !directory.outsiders.has(channelId),
  };
  return directory;
}

export const generalChannel: Conversation = {
  id: "C0GENERAL",
  isExternal: false,
  isPrivate: false,
  isDirect: false,
};

const LIST_LIMIT = 100;

/** A ledger in a Map, keeping the port's conditional transitions. */
export function memoryLedger(): ShareLedger & { readonly shares: Map<string, ShareRecord> } {
  const shares = new Map<string, ShareRecord>();
  const opens: { open: ShareOpen; told: boolean }[] = [];
  const change = (
    id: string,
    allowed: (share: ShareRecord) => boolean,
    next: (share: ShareRecord) => ShareRecord,
  ): Transition => {
    const share = shares.get(id);
    if (!share || !allowed(share)) return { changed: false, share };
    const changed = next(share);
    shares.set(id, changed);
    return { changed: true, share: changed };
  };
  const has = (states: readonly ShareState[]) => (share: ShareRecord) => states.includes(share.state);
  const newestFirst = (a: ShareRecord, b: ShareRecord) =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);
  return {
    shares,
    async record(share: NewShare) {
      const known = shares.get(share.id);
      if (known) {
        if (isSameShare(known, share)) return known;
        throw shareIdTaken(share.id);
      }
      const record: ShareRecord = {
        ...share,
        access: share.access ?? "link",
        notifyOpens: share.notifyOpens ?? false,
        state: "pending",
        expiryNotified: false,
      };
      shares.set(share.id, record);
      return record;
    },
    posted: async (id, message) =>
      change(
        id,
        () => true,
        (share) => ({
          ...share,
          message,
          state: share.state === "pending" || share.state === "failed" ? "active" : share.state,
        }),
      ),
    failed: async (id, reason) =>
      change(id, has(["pending"]), (share) => ({ ...share, state: "failed", failure: reason })),
    get: async (id) => shares.get(id),
    revoke: async (id, by, at) =>
      change(id, has(REVOCABLE_STATES), (share) => ({
        ...share,
        state: "revoked",
        revokedBy: by,
        revokedAt: at,
      })),
    markExpired: async (id) => change(id, has(LIVE_STATES), (share) => ({ ...share, state: "expired" })),
    markReplaced: async (id, newId) =>
      change(
        id,
        (share) => REPLACEABLE_STATES.includes(share.state) && share.replacedBy === undefined,
        (share) => ({ ...share, replacedBy: newId }),
      ),
    unmarkReplaced: async (id, newId) =>
      change(
        id,
        (share) => share.replacedBy === newId,
        (share) => ({ ...share, replacedBy: undefined }),
      ),
    dueForReminder: async (before, limit = LIST_LIMIT) =>
      [...shares.values()]
        .filter(
          (s) =>
            s.state === "active" &&
            s.mode === "announce" &&
            !s.replacedBy &&
            !s.expiryNotified &&
            s.expiresAt <= before,
        )
        .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
        .slice(0, limit),
    markExpiryNotified: async (id) =>
      change(
        id,
        (share) => share.state === "active" && !share.expiryNotified,
        (share) => ({ ...share, expiryNotified: true }),
      ),
    list: async (query: ShareQuery = {}) =>
      [...shares.values()]
        .filter(
          (s) =>
            (query.sharerId === undefined || s.sharerId === query.sharerId) &&
            (query.states === undefined || query.states.includes(s.state)) &&
            (query.since === undefined || s.createdAt >= query.since) &&
            (query.until === undefined || s.createdAt < query.until),
        )
        .sort(newestFirst)
        .slice(0, query.limit ?? LIST_LIMIT),
    dueForExpiry: async (before, limit = LIST_LIMIT) =>
      [...shares.values()]
        .filter((s) => LIVE_STATES.includes(s.state) && s.expiresAt <= before)
        .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
        .slice(0, limit),
    async recordOpen(open) {
      if (!shares.has(open.shareId)) throw unknownShare();
      opens.push({ open, told: false });
    },
    listOpens: async (shareId) => opens.filter((o) => o.open.shareId === shareId).map((o) => o.open),
    async claimOpensToNotify(shareId, upTo) {
      const due = opens.filter((o) => o.open.shareId === shareId && !o.told && o.open.at <= upTo);
      for (const o of due) o.told = true;
      return due.map((o) => o.open);
    },
    close: async () => {},
  };
}

/** Every file under `reports/` exists, 1 kB, modified a day before `NOW`; anything listed in `gone` does not. */
export function fakeCatalog(gone: readonly string[] = []): FileCatalog {
  return {
    stat: async (key) =>
      gone.includes(key) || !key.startsWith("reports/")
        ? undefined
        : { key, size: 1000, lastModified: new Date(NOW.getTime() - DAY_SECONDS * 1000) },
  };
}

export const fakeSigner: LinkSigner = {
  sign: (key, validity) => ({
    key,
    url: `https://links.example/${encodeURIComponent(key)}?share=${validity.shareId ?? ""}`,
    expiresAt: new Date(Math.floor(validity.expiresAt.getTime() / 1000) * 1000),
  }),
};

/** Posts every share as a message in its conversation, and remembers what it posted. */
export function fakePoster(): Poster & { readonly posts: Share[] } {
  const posts: Share[] = [];
  return {
    posts,
    async post(share): Promise<Posted> {
      posts.push(share);
      return {
        channelId: share.channelId,
        ts: `1700000000.00000${posts.length}`,
        via: "message",
        pinned: false,
      };
    },
  };
}

/** Remembers what became of each share's message. */
export function fakeMessages(): ShareMessages & { readonly edits: string[] } {
  const edits: string[] = [];
  return {
    edits,
    async revoked(share, by): Promise<MessageEdit> {
      edits.push(`revoked ${share.id} by ${by}`);
      return "edited";
    },
    async expired(share) {
      edits.push(`expired ${share.id}`);
    },
    async replaced(share) {
      edits.push(`replaced ${share.id}`);
    },
    async expiresSoon(share) {
      edits.push(`expires soon ${share.id}`);
    },
  };
}

export function fakeSearch(files: readonly FileInfo[] = []): FileSearch & { readonly queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    search(query, prefixes, limit) {
      queries.push(query);
      return {
        files: files.filter((f) => prefixes.some((p) => f.key.startsWith(p))).slice(0, limit),
        partial: false,
      };
    },
    fileGone: () => {},
    status: () => ({ files: files.length, complete: true, refreshedAt: NOW }),
  };
}

/** Ids in order: `share00000000000000001`, … (22 characters, as real share ids are). */
export function sequentialIds(): () => string {
  let n = 0;
  return () => `share${String(++n).padStart(17, "0")}`;
}

export interface FakeWorld {
  readonly ctx: HandoutContext;
  readonly ledger: ReturnType<typeof memoryLedger>;
  readonly directory: FakeDirectory;
  readonly poster: ReturnType<typeof fakePoster>;
  readonly messages: ReturnType<typeof fakeMessages>;
  readonly logs: ReturnType<typeof captureLogs>;
}

/** A listener's whole context over fakes: nothing starts, nothing reads the calendar. */
export function fakeWorld(
  options: { policy?: AccessPolicy; gone?: readonly string[]; overdue?: AbortSignal } = {},
): FakeWorld {
  const policy = options.policy ?? testPolicy();
  const ledger = memoryLedger();
  const directory = fakeDirectory();
  const poster = fakePoster();
  const messages = fakeMessages();
  const logs = captureLogs("debug");
  const search = fakeSearch();
  const share: LifeDependencies = {
    directory,
    policy: () => policy,
    catalog: fakeCatalog(options.gone),
    signer: fakeSigner,
    poster,
    ledger,
    messages,
    revokedLinksRefused: true,
    now: () => NOW,
    newId: sequentialIds(),
  };
  const ctx: HandoutContext = {
    policy: () => policy,
    directory,
    search,
    share,
    seal: new MetadataSeal("unit-test-secret"),
    acceptsResponseUrl: responseUrlCheck(undefined),
    refs: new KeyRefs(),
    logger: logs.logger,
    ...(options.overdue ? { overdue: options.overdue } : {}),
  };
  return { ctx, ledger, directory, poster, messages, logs };
}
