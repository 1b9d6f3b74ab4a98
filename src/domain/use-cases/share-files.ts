import { HandoutError } from "../errors.js";
import { toWholeSecond } from "../expiry.js";
import { accessFor } from "../policy.js";
import type { Announcement, Origin, Share, SharedFile } from "../ports.js";
import type { Posted, ShareAccess, ShareMode, ShareRecord } from "../share.js";
import { accessProblem, openChoice, type RequestProblem, shapeProblem } from "../share-request.js";
import type { ShareDependencies } from "./dependencies.js";

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

function assertNo(problem: RequestProblem | undefined): void {
  if (problem) throw problem.error;
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
  assertNo(shapeProblem(request));
  const policy = deps.policy();
  const person = await deps.directory.person(request.userId, { fresh: true });
  assertNotStopped(steps.stop);
  const now = deps.now();
  const access = accessFor(policy, person);
  assertNo(accessProblem(request, access, now));
  const choice = openChoice(request, access, !!deps.memberLinks);
  if ("error" in choice) throw choice.error;
  const { open } = choice;

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
    throw new HandoutError("ACCESS_DENIED", [
      "You are not in ",
      { conversation: conversation.id },
      ", so Handout will not post there for you. Join it, or choose a conversation you are in.",
    ]);
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
    throw new HandoutError("OBJECT_NOT_FOUND", [
      { files: gone },
      ` ${gone.length === 1 ? "is" : "are"} no longer in the bucket. Choose again.`,
    ]);
  }

  assertNotStopped(steps.stop);
  // Recorded before any link exists, so that no link is ever out there without a record to revoke it by.
  const record = await deps.ledger.record({
    id: deps.newId(),
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
