const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

export interface HomePageFacts {
  /** What is shared and where links point, as the start-up log says it. */
  readonly sharing: string;
  readonly slack: "socket mode" | "http" | "not configured";
  /** The command line as it runs where Handout runs. */
  readonly cli: string;
}

/**
 * The embedded default's page at `/`: the address its log prints, and the first thing a person opens.
 * It says what runs and what to do next; it lists no file.
 */
export function homePage(facts: HomePageFacts): string {
  const sign = `${facts.cli} sign welcome.txt --expires 1h`;
  const slack =
    facts.slack === "not configured"
      ? `<p>Slack is not connected. To share from Slack, create the app from <code>manifest.yml</code>, set
  <code>SLACK_BOT_TOKEN</code> and <code>SLACK_APP_TOKEN</code> (Socket Mode) or <code>SLACK_BOT_TOKEN</code>
  and <code>SLACK_SIGNING_SECRET</code> (HTTP mode), and restart Handout; the README's “Running it in
  Slack” has the steps.</p>`
      : `<p>Slack is connected (${facts.slack}): type <code>/share</code> in Slack to share a file.</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Handout is running</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Handout is running</h1>
<p>It shares ${escapeHtml(facts.sharing)}. Each link it signs opens one file until it expires.</p>
<h2>Sign a link</h2>
<p>In a terminal, where Handout runs:</p>
<pre>${escapeHtml(sign)}</pre>
<p>It prints a link; open it in a browser. Any file in the folder can be signed the same way.</p>
<h2>Share from Slack</h2>
${slack}
<p>Health: <a href="/healthz">/healthz</a></p>
</body>
</html>
`;
}
