import type { WebClient } from "@slack/web-api";
import type { ShareOpen } from "../domain/ledger.js";
import { accessFor } from "../domain/policy.js";
import { HOME_SHARES, homeView } from "./blocks/home.js";
import type { HandoutContext } from "./context.js";

/**
 * Publishes a person's App Home: their links, or for an admin everyone's (or one person's). Who is an
 * admin is read from the directory and the policy each time.
 */
export async function publishHome(
  ctx: HandoutContext,
  client: WebClient,
  viewerId: string,
  options: { filterUserId?: string | undefined; notice?: string | undefined } = {},
): Promise<void> {
  let isAdmin = false;
  try {
    isAdmin = accessFor(ctx.policy(), await ctx.directory.person(viewerId)).isAdmin;
  } catch (error) {
    ctx.logger.warn(
      { err: error, user: viewerId },
      "could not look a person up for App Home; showing their own links",
    );
  }
  const filterUserId = isAdmin ? options.filterUserId : viewerId;
  const shares = await ctx.share.ledger.list({
    ...(filterUserId ? { sharerId: filterUserId } : {}),
    limit: 41,
  });
  const opens = new Map<string, ShareOpen[]>();
  await Promise.all(
    shares
      .slice(0, HOME_SHARES)
      .filter((share) => share.access === "members")
      .map(async (share) => {
        opens.set(share.id, await ctx.share.ledger.listOpens(share.id));
      }),
  );
  await client.views.publish({
    user_id: viewerId,
    view: homeView({
      viewerId,
      shares,
      isAdmin,
      filterUserId,
      notice: options.notice,
      now: ctx.share.now(),
      opens,
    }),
  });
}
