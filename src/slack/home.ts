import type { WebClient } from "@slack/web-api";
import { listShares } from "../domain/use-cases/list-shares.js";
import { HOME_SHARES, homeView } from "./blocks/home.js";
import type { HandoutContext } from "./context.js";

/** Publishes a person's App Home: the shares `listShares` lets them see (one more than shown says there are more). */
export async function publishHome(
  ctx: HandoutContext,
  client: WebClient,
  viewerId: string,
  options: { filterUserId?: string | undefined; notice?: string | undefined } = {},
): Promise<void> {
  const { shares, isAdmin, sharerId, opens } = await listShares(
    ctx.share,
    { viewerId, sharerId: options.filterUserId, limit: HOME_SHARES + 1, opensOf: HOME_SHARES },
    (error) =>
      ctx.logger.warn(
        { err: error, user: viewerId },
        "could not look a person up for App Home; showing their own links",
      ),
  );
  await client.views.publish({
    user_id: viewerId,
    view: homeView({
      viewerId,
      shares,
      isAdmin,
      filterUserId: sharerId,
      notice: options.notice,
      now: ctx.share.now(),
      opens,
    }),
  });
}
