import type {
  AllMiddlewareArgs,
  BlockAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
  UsersSelectAction,
} from "@slack/bolt";
import type { HandoutContext } from "../context.js";
import { publishHome } from "../home.js";

export const homeOpened =
  (ctx: HandoutContext) =>
  async ({
    event,
    client,
  }: AllMiddlewareArgs & SlackEventMiddlewareArgs<"app_home_opened">): Promise<void> => {
    if (event.tab !== "home") return;
    await publishHome(ctx, client, event.user);
  };

/** An admin chose whose links to see. */
export const homeFilter =
  (ctx: HandoutContext) =>
  async ({
    ack,
    body,
    action,
    client,
  }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<UsersSelectAction>>): Promise<void> => {
    await ack();
    await publishHome(ctx, client, body.user.id, { filterUserId: action.selected_user ?? undefined });
  };
