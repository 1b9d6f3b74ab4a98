import type { AllMiddlewareArgs, SlackActionMiddlewareArgs } from "@slack/bolt";

/** The Download buttons open their URL in the browser; Slack still expects the click acknowledged. */
export const downloadButton = async ({
  ack,
}: AllMiddlewareArgs & SlackActionMiddlewareArgs): Promise<void> => {
  await ack();
};
