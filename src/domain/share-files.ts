import { HandoutError } from "./errors.js";
import { assertExpiryAllowed, toWholeSecond } from "./expiry.js";
import { newShareId, type ShareAccess, type ShareLedger, type ShareRecord } from "./ledger.js";
import { keyProblem } from "./object-key.js";
import { type AccessPolicy, accessFor, type OpenChoices } from "./policy.js";
import type {
  Announcement,
  Directory,
  FileCatalog,
  LinkSigner,
  MemberLinks,
  Origin,
  Posted,
  Poster,
  Share,
  SharedFile,
  ShareMode,
} from "./ports.js";
import { shortenMiddle } from "./search.js";

/** Slack showed the first of a share's messages and refused a later one: `shown` is what is out. */
export class PartlyPostedError extends HandoutError {
  constructor(
    message: string,
    readonly shown: Posted,
    options?: { cause?: unknown },
  ) {
    super("PARTLY_POSTED", message, options);
  }
}

export const MAX_FILES_PER_SHARE = 10;
export const MAX_NOTE_LENGTH = 2000;
export const MAX_TITLE_LENGTH = 150;
export const MAX_MESSAGE_LENGTH = 2500;

/** What a person asked for. Nothing in it is trusted: every part is checked again here. */
export interface ShareRequest {
  readonly userId: string;
  readonly keys: readonly string[];
  readonly expiresAt: Date;
  readonly channelId: string;
  readonly mode: ShareMode;
  readonly note?: string | undefined;
  readonly announcement?: Announcement | undefined;
  readonly origin?: Origin | undefined;
  /** The share this one extends. */
  readonly replaces?: string | undefined;
  /** Who can open the links, as asked; absent: what the policy preselects. Checked against the policy. */
  readonly access?: ShareAccess | undefined;
  /** Tell the sharer who opened the links (members-only shares only). */
  readonly notifyOpens?: boolean | undefined;
}

export interface ShareSteps {
  /**
   * Runs once the share is recorded and before any link is made; when it throws, the share is
   * recorded as failed and nothing is posted. An extension claims the share it replaces here.
   */
  readonly recorded?: (record: ShareRecord) => Promise<void>;
  /** Aborted when Handout must stop before the share is done: it stops before recording, or before posting. */
  readonly stop?: AbortSignal | undefined;
}

function assertNotStopped(stop: AbortSignal | undefined): void {
  if (stop?.aborted) {
    throw new HandoutError(
      "STOPPING",
      "Handout had to stop (it is restarting) before it could post this: try again in a minute.",
    );
  }
}

export interface ShareDependencies {
  readonly directory: Directory;
  readonly policy: () => AccessPolicy;
  readonly catalog: FileCatalog;
  readonly signer: LinkSigner;
  /** Present when the gate is set up (HANDOUT_PUBLIC_URL): members-only links are possible. */
  readonly memberLinks?: MemberLinks | undefined;
  readonly poster: Poster;
  readonly ledger: ShareLedger;
  readonly now: () => Date;
  /** Told when a file the person chose is no longer in the bucket, so that search stops offering it. */
  readonly fileGone?: (key: string) => void;
}

/** How many keys a message names, and how much of each: a message stays short for any keys. */
const KEYS_NAMED = 3;
const KEY_SHOWN = 120;

/** `“a”, “b”, “c” and 7 more`: keys named in a message, the most of each that reads well. */
function namedKeys(keys: readonly string[]): string {
  const named = keys.slice(0, KEYS_NAMED).map((key) => `“${shortenMiddle(key, KEY_SHOWN)}”`);
  return keys.length > KEYS_NAMED
    ? `${named.join(", ")} and ${keys.length - KEYS_NAMED} more`
    : named.join(", ");
}

const denied = (message: string) => new HandoutError("ACCESS_DENIED", message);
const invalid = (message: string) => new HandoutError("INPUT_INVALID", message);

function assertWellFormed(request: ShareRequest): void {
  if (request.keys.length === 0) throw invalid("Choose at least one file.");
  if (request.keys.length > MAX_FILES_PER_SHARE)
    throw invalid(`Choose at most ${MAX_FILES_PER_SHARE} files at once.`);
  if (new Set(request.keys).size !== request.keys.length) throw invalid("The same file was chosen twice.");
  if ((request.note?.length ?? 0) > MAX_NOTE_LENGTH)
    throw invalid(`Keep the note under ${MAX_NOTE_LENGTH} characters.`);
  if (request.mode === "announce") {
    const { announcement } = request;
    if (!announcement?.title.trim()) throw invalid("An announcement needs a title.");
    if (announcement.title.length > MAX_TITLE_LENGTH)
      throw invalid(`Keep the title under ${MAX_TITLE_LENGTH} characters.`);
    if (announcement.message.length > MAX_MESSAGE_LENGTH) {
      throw invalid(`Keep the message under ${MAX_MESSAGE_LENGTH} characters.`);
    }
  }
  for (const key of request.keys) {
    const problem = keyProblem(key);
    if (problem) throw invalid(`That file cannot be shared: ${problem}.`);
  }
}

/** Who can open this share's links: the request's choice when the policy offers it, else a refusal. */
function openAccess(request: ShareRequest, choices: OpenChoices | undefined): ShareAccess {
  if (!choices) throw denied("You may not share these files.");
  if ("problem" in choices) throw denied(choices.problem);
  const asked = request.access ?? choices.preferred;
  if (choices.allowed.includes(asked)) return asked;
  throw denied(
    asked === "members"
      ? "Links that only people in the conversation can open are not on offer for these files here. Choose “Anyone with the link”."
      : "The access policy lets these files be opened only by people in the conversation. Choose “People in the conversation”.",
  );
}

/**
 * Shares files: who is this person now, may they share each file for that long, into that
 * conversation, do the files still exist — then sign and post. Decisions rest on the directory and
 * the policy, never on what the request claims.
 */
export async function shareFiles(
  request: ShareRequest,
  deps: ShareDependencies,
  steps: ShareSteps = {},
): Promise<{ share: Share; posted: Posted; record: ShareRecord }> {
  assertWellFormed(request);
  const policy = deps.policy();
  const person = await deps.directory.person(request.userId, { fresh: true });
  assertNotStopped(steps.stop);
  const access = accessFor(policy, person);

  const refused = request.keys.filter((key) => !access.allows(key));
  if (refused.length > 0) {
    throw denied(
      refused.length === request.keys.length && !access.canShare
        ? "You may not share files from this bucket."
        : `You may not share ${namedKeys(refused)}.`,
    );
  }
  if (request.mode === "announce" && !access.canAnnounce) throw denied("You may not post announcements.");
  const open = openAccess(request, access.openChoicesFor(request.keys, { gate: !!deps.memberLinks }));
  const now = deps.now();
  assertExpiryAllowed(request.expiresAt, now, access.expiryLimitsFor(request.keys)?.max);

  // An ephemeral share reaches only the person, wherever it is shown.
  const conversation =
    request.mode === "ephemeral" ? undefined : await deps.directory.conversation(request.channelId);
  if (conversation?.isExternal && !policy.allowExternalChannels) {
    throw new HandoutError(
      "EXTERNAL_CHANNEL",
      "That conversation is shared with another organisation, and the access policy keeps links inside this one. Choose another conversation.",
    );
  }
  if (conversation && !(await deps.directory.isMember(conversation.id, request.userId))) {
    throw denied(
      `You are not in <#${conversation.id}>, so Handout will not post there for you. Join it, or choose a conversation you are in.`,
    );
  }
  if (request.mode !== "ephemeral" && !conversation && !policy.allowExternalChannels) {
    throw new HandoutError(
      "CHANNEL_NOT_FOUND",
      "Handout cannot see that conversation, so it cannot check that it stays inside your organisation. Add Handout to it (type /invite @Handout there), or choose a channel Handout is in.",
    );
  }

  assertNotStopped(steps.stop);
  const files = await Promise.all(request.keys.map((key) => deps.catalog.stat(key)));
  const gone = request.keys.filter((_, i) => files[i] === undefined);
  if (gone.length > 0) {
    for (const key of gone) deps.fileGone?.(key);
    throw new HandoutError(
      "OBJECT_NOT_FOUND",
      `${namedKeys(gone)} ${gone.length === 1 ? "is" : "are"} no longer in the bucket. Choose again.`,
    );
  }

  assertNotStopped(steps.stop);
  // Recorded before any link exists, so that no link is ever out there without a record to revoke it by.
  const record = await deps.ledger.record({
    id: newShareId(),
    sharerId: request.userId,
    keys: request.keys,
    channelId: request.channelId,
    mode: request.mode,
    createdAt: now,
    expiresAt: toWholeSecond(request.expiresAt),
    note: request.note?.trim() || undefined,
    title: request.mode === "announce" ? request.announcement?.title : undefined,
    announcementText:
      request.mode === "announce" ? request.announcement?.message.trim() || undefined : undefined,
    replaces: request.replaces,
    access: open,
    // Nobody but the sharer can open an ephemeral share: there is nothing to tell.
    notifyOpens: open === "members" && request.mode !== "ephemeral" && request.notifyOpens === true,
  });
  // Anything that stops the share before it is posted leaves it recorded as failed, never pending.
  let share: Share;
  let posted: Posted;
  try {
    await steps.recorded?.(record);
    const shared: SharedFile[] = files.map((file, index) => {
      const info = file as NonNullable<typeof file>;
      const memberLinks = open === "members" ? deps.memberLinks : undefined;
      // A members-only link carries no signature: the gate signs a short-lived one at each open.
      const link = memberLinks
        ? { url: memberLinks.url(record.id, index), key: info.key, expiresAt: record.expiresAt }
        : deps.signer.sign(info.key, { expiresAt: record.expiresAt, shareId: record.id });
      return { file: info, link };
    });
    share = {
      id: record.id,
      sharerId: request.userId,
      files: shared,
      expiresAt: shared[0]?.link.expiresAt ?? request.expiresAt,
      note: request.note?.trim() || undefined,
      mode: request.mode,
      announcement: request.mode === "announce" ? request.announcement : undefined,
      channelId: request.channelId,
      access: open,
    };
    assertNotStopped(steps.stop);
    posted = await deps.poster.post(share, request.origin);
  } catch (error) {
    if (error instanceof PartlyPostedError) {
      // Some links are out: the share is live, so that it can be revoked, extended and expired.
      await deps.ledger.posted(record.id, error.shown).catch(() => undefined);
      throw error;
    }
    // The cause is what the person needs to hear, even if the ledger cannot take the failure.
    await deps.ledger
      .failed(record.id, error instanceof Error ? error.message : String(error))
      .catch(() => undefined);
    throw error;
  }
  const updated = await deps.ledger.posted(record.id, posted);
  return { share, posted, record: updated.share ?? record };
}
