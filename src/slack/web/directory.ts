import type { WebClient } from "@slack/web-api";
import { HandoutError } from "../../domain/errors.js";
import type { Person, UserGroup } from "../../domain/policy.js";
import type { Conversation, Directory } from "../../domain/ports.js";
import type { Logger } from "../../logger.js";
import { slackFailure } from "./slack-error.js";

export interface SlackDirectoryOptions {
  readonly client: WebClient;
  /** The channels whose members the policy names: only these memberships are looked up. */
  readonly policyChannels: () => readonly string[];
  /** How long an answer is reused where no decision to share is made (type-ahead, opening the modal). */
  readonly cacheSeconds: number;
  /**
   * How long an answer is reused where a decision to share is made (default 30 s): Slack allows about
   * 20 `usergroups.list` calls a minute for the whole app, and a change in the directory still counts
   * within a minute.
   */
  readonly freshSeconds?: number;
  readonly logger: Logger;
  /** The workspace the app is installed in (auth.test's team_id): people from elsewhere count as guests. */
  readonly teamId?: string | undefined;
  readonly now?: () => number;
}

interface Cached<T> {
  readonly at: number;
  readonly value: T;
}

const unavailable = (what: string, error: unknown) =>
  new HandoutError(
    "DIRECTORY_UNAVAILABLE",
    `Slack did not tell Handout ${what} (${slackFailure(error)}), so nothing was shared. Try again in a minute.`,
    { cause: error },
  );

/**
 * The workspace directory: user groups, guest status and channel membership, from Slack's Web API.
 * Answers are cached briefly, `fresh` ones more briefly; concurrent questions share one request.
 */
export function slackDirectory(options: SlackDirectoryOptions): Directory {
  const { client, logger } = options;
  const now = options.now ?? (() => Date.now());
  const maxAgeMs = (fresh: boolean) => (fresh ? (options.freshSeconds ?? 30) : options.cacheSeconds) * 1000;
  const cache = new Map<string, Cached<unknown>>();
  const inFlight = new Map<string, Cached<Promise<unknown>>>();
  const people = new Map<string, Cached<Person>>();
  let groupsUnavailableLogged = false;

  /**
   * An answer asked for less than `maxAge` ago, or a new one. A request under way is joined when it
   * began within the fresh bound, whatever `maxAge`: its answer is as recent as a decision needs.
   */
  async function remember<T>(key: string, maxAge: number, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key) as Cached<T> | undefined;
    if (hit && now() - hit.at < maxAge) return hit.value;
    const pending = inFlight.get(key) as Cached<Promise<T>> | undefined;
    if (pending && now() - pending.at < Math.max(maxAge, maxAgeMs(true))) return pending.value;
    const started = now();
    const promise = load()
      .then((value) => {
        const newer = cache.get(key);
        if (!newer || newer.at <= started) cache.set(key, { at: started, value });
        return value;
      })
      .finally(() => {
        if (inFlight.get(key)?.value === promise) inFlight.delete(key);
      });
    inFlight.set(key, { at: started, value: promise });
    return promise;
  }

  const groups = (fresh: boolean) =>
    remember("usergroups", maxAgeMs(fresh), async (): Promise<(UserGroup & { users: string[] })[]> => {
      try {
        const answer = await client.usergroups.list({ include_users: true });
        return (answer.usergroups ?? []).map((g) => ({
          id: g.id ?? "",
          handle: g.handle ?? "",
          users: g.users ?? [],
        }));
      } catch (error) {
        const code = slackFailure(error);
        // Free workspaces have no user groups; the policy can still name channels and users.
        if (
          code === "plan_upgrade_required" ||
          code === "missing_scope" ||
          code === "not_allowed_token_type"
        ) {
          if (!groupsUnavailableLogged) {
            logger.warn({ reason: code }, "user groups are unavailable; rules naming groups match nobody");
            groupsUnavailableLogged = true;
          }
          return [];
        }
        throw unavailable("which user groups you are in", error);
      }
    });

  const members = (channel: string, fresh: boolean) =>
    remember(`members:${channel}`, maxAgeMs(fresh), async (): Promise<Set<string>> => {
      const found = new Set<string>();
      try {
        let cursor: string | undefined;
        do {
          const page = await client.conversations.members({
            channel,
            limit: 1000,
            ...(cursor ? { cursor } : {}),
          });
          for (const member of page.members ?? []) found.add(member);
          cursor = page.response_metadata?.next_cursor || undefined;
        } while (cursor);
      } catch (error) {
        const code = slackFailure(error);
        if (code === "channel_not_found") {
          logger.warn(
            { channel },
            "a channel named in the access policy is not visible to Handout; invite Handout to it",
          );
          return found;
        }
        throw unavailable("who is in the channels the access policy names", error);
      }
      return found;
    });

  const user = (userId: string, fresh: boolean) =>
    remember(`user:${userId}`, maxAgeMs(fresh), async () => {
      try {
        return (await client.users.info({ user: userId })).user;
      } catch (error) {
        if (slackFailure(error) === "user_not_found") return undefined;
        throw unavailable("who you are", error);
      }
    });

  return {
    async person(userId, { fresh = false } = {}): Promise<Person> {
      const channels = options.policyChannels();
      const [profile, allGroups, memberships] = await Promise.all([
        user(userId, fresh),
        groups(fresh),
        Promise.all(channels.map((channel) => members(channel, fresh))),
      ]);
      if (!profile || profile.deleted) {
        throw new HandoutError(
          "ACCESS_DENIED",
          "Handout does not know you in this workspace, so it cannot share files for you.",
        );
      }
      const person: Person = {
        userId,
        groups: allGroups.filter((g) => g.users.includes(userId)).map(({ id, handle }) => ({ id, handle })),
        channels: new Set(channels.filter((_, i) => memberships[i]?.has(userId))),
        // Guests, and people from other organisations met in shared channels (Slack Connect).
        isGuest:
          profile.is_restricted === true ||
          profile.is_ultra_restricted === true ||
          (options.teamId !== undefined &&
            profile.team_id !== undefined &&
            profile.team_id !== options.teamId),
      };
      people.set(userId, { at: now(), value: person });
      return person;
    },

    known(userId) {
      const hit = people.get(userId);
      return hit && now() - hit.at < maxAgeMs(false) ? hit.value : undefined;
    },

    async isMember(channelId, userId) {
      return (await members(channelId, true)).has(userId);
    },

    async conversation(channelId): Promise<Conversation | undefined> {
      // Asked afresh each time: a person who has just invited Handout should not wait for a cache.
      return remember(`conversation:${channelId}`, 0, async () => {
        try {
          const { channel } = await client.conversations.info({ channel: channelId });
          if (!channel) return undefined;
          return {
            id: channelId,
            isExternal: channel.is_ext_shared === true || channel.is_pending_ext_shared === true,
            isPrivate: channel.is_private === true,
            isDirect: channel.is_im === true,
          };
        } catch (error) {
          if (slackFailure(error) === "channel_not_found") return undefined;
          throw unavailable("about that conversation", error);
        }
      });
    },
  };
}
