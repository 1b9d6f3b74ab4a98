import type { AuthTestResponse, WebClient } from "@slack/web-api";
import { slackErrorCode } from "../slack/web/slack-error.js";
import { type Checked, type CheckResult, failed, passed, skipped } from "./check.js";

/** The bot scopes manifest.yml asks for (a test keeps the two lists equal). */
export const BOT_SCOPES: readonly string[] = [
  "commands",
  "chat:write",
  "chat:write.public",
  "users:read",
  "usergroups:read",
  "channels:read",
  "groups:read",
  "mpim:read",
  "im:read",
  "pins:write",
];

const TOKEN = "Slack token";
const SCOPES = "Slack scopes";

const REFUSED = new Set(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"]);

/** auth.test: Slack accepts SLACK_BOT_TOKEN. Hands on the answer, whose metadata lists the token's scopes. */
export async function checkSlackToken(client: WebClient): Promise<Checked<AuthTestResponse>> {
  try {
    const answer = await client.auth.test();
    return passed(
      TOKEN,
      `accepted in workspace ${answer.team ?? answer.team_id ?? "?"} as @${answer.user ?? answer.user_id ?? "?"}`,
      answer,
    );
  } catch (error) {
    const slackError = slackErrorCode(error);
    if (slackError && REFUSED.has(slackError)) {
      return failed(
        TOKEN,
        `Slack refused SLACK_BOT_TOKEN (${slackError})`,
        "Copy the Bot User OAuth Token (xoxb-…) again from the Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN.",
      );
    }
    const status = (error as { statusCode?: number }).statusCode;
    // A request that never got an answer wraps fetch's error, whose cause names the network problem.
    const original = (error as { original?: Error & { cause?: { code?: string; message?: string } } })
      .original;
    const cause =
      slackError ??
      (status
        ? `HTTP ${status}`
        : (original?.cause?.code ?? original?.cause?.message ?? original?.message ?? String(error)));
    return failed(
      TOKEN,
      `could not check the token with Slack (${cause})`,
      "Check the network and SLACK_API_URL (leave it unset for Slack itself), then run the doctor again.",
    );
  }
}

/** The token holds every scope the manifest asks for; Slack lists a token's scopes on each answer. */
export function checkSlackScopes(answer: AuthTestResponse): CheckResult {
  const granted = answer.response_metadata?.scopes;
  if (!granted) return skipped(SCOPES, "Slack did not say which scopes the token has");
  const missing = BOT_SCOPES.filter((scope) => !granted.includes(scope));
  if (missing.length === 0) return passed(SCOPES, `all ${BOT_SCOPES.length} scopes of manifest.yml`);
  return failed(
    SCOPES,
    `the token lacks ${missing.join(", ")}`,
    "Add the missing scopes under the Slack app's OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), then reinstall the app to the workspace.",
  );
}
