/** The error code in a Slack Web API failure (`invalid_auth`, `channel_not_found`, …), if it has one. */
export const slackErrorCode = (error: unknown): string | undefined =>
  (error as { data?: { error?: string } }).data?.error;

/** A failure's Slack code, else the Web API client's own (`slack_webapi_request_error`), for messages. */
export const slackFailure = (error: unknown): string =>
  slackErrorCode(error) ?? (error as { code?: string }).code ?? "no answer";
