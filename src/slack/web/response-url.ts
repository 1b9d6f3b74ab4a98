/** Where Slack's response URLs live, GovSlack's included. */
const SLACK_HOOKS = ["https://hooks.slack.com", "https://hooks.slack-gov.com"];

/**
 * Whether a payload's response URL is one Handout may post to: Slack's own hooks, or the origin of
 * SLACK_API_URL (a GovSlack or test setup that serves both). A response URL receives signed links, so
 * one pointing anywhere else is refused, whoever signed the request.
 */
export type ResponseUrlCheck = (url: string | undefined) => url is string;

export function responseUrlCheck(apiUrl: string | undefined): ResponseUrlCheck {
  const origins = new Set(SLACK_HOOKS);
  if (apiUrl) origins.add(new URL(apiUrl).origin);
  return (url): url is string => {
    if (!url) return false;
    try {
      const parsed = new URL(url);
      return origins.has(parsed.origin) && parsed.username === "" && parsed.password === "";
    } catch {
      return false;
    }
  };
}

/** What a log may say about a refused response URL: its host, never the rest (it is a credential). */
export function responseUrlHost(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).host : undefined;
  } catch {
    return "(not a URL)";
  }
}
