const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page for people: what happened, in plain words, and what to do next. */
export function gatePage(title: string, paragraphs: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Handout</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1c1d}h1{font-size:1.4rem}</style>
</head>
<body><main><h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}
</main></body>
</html>
`;
}

/** What the gate answers when Slack or the ledger fails it: nothing opened, try again. */
export const gateUnavailable = () => ({
  status: 503,
  headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } as Record<
    string,
    string
  >,
  body: gatePage("Handout could not check this link just now", [
    "Something it needs (Slack, or its records) did not answer. Nothing was opened.",
    "Try again in a minute.",
  ]),
});
