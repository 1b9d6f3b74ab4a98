import { escapeMrkdwn } from "../format.js";
import { OPTION_TEXT_MAX, shortenMiddle } from "./shorten.js";

/**
 * Slack's limits on Block Kit text, which it counts after escaping `&`, `<` and `>` (so 600 `&` are
 * 3,000 characters). Every builder caps text here, so that no payload is refused as `invalid_blocks`.
 */
export const LIMIT = {
  section: 3000,
  context: 3000,
  header: 150,
  button: 75,
  option: OPTION_TEXT_MAX,
  confirm: 300,
} as const;

/** `text` shortened in the middle until it is at most `max` characters once escaped; not escaped itself. */
export function fitEscaped(text: string, max: number): string {
  let budget = max;
  let fitted = text;
  for (let excess = escapeMrkdwn(fitted).length - max; excess > 0 && budget > 0; ) {
    // Each character escapes to at most five: cutting a fifth of the excess never overshoots much.
    budget = Math.min(budget, fitted.length) - Math.max(1, Math.floor(excess / 5));
    fitted = shortenMiddle(text, Math.max(0, budget));
    excess = escapeMrkdwn(fitted).length - max;
  }
  return fitted;
}

/** A person's or the bucket's text for mrkdwn: escaped, and at most `max` characters as Slack counts them. */
export const escapeWithin = (text: string, max: number): string => escapeMrkdwn(fitEscaped(text, max));

/** Where mrkdwn may be cut without breaking an entity (`&amp;`) or a token (`<@U…>`, `<!date…>`). */
function safeCut(text: string, at: number): number {
  const open = text.lastIndexOf("<", at - 1);
  if (open > text.lastIndexOf(">", at - 1)) return open;
  const amp = text.lastIndexOf("&", at - 1);
  if (amp > text.lastIndexOf(";", at - 1) && at - amp < 5) return amp;
  return at;
}

/**
 * Mrkdwn within `max`. The parts a builder took from people or the bucket are capped where they go in
 * (`escapeWithin`); this is the last guard, cutting the end at a safe place when they add up too long.
 */
export function fitMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, safeCut(text, max - 1)).trimEnd()}…`;
}

export const mrkdwn = (text: string, max: number = LIMIT.section) => ({
  type: "mrkdwn" as const,
  text: fitMrkdwn(text, max),
});

/** Plain text, which Slack also counts escaped. */
export const plain = (text: string, max: number = LIMIT.section) => ({
  type: "plain_text" as const,
  text: fitEscaped(text, max),
  emoji: true,
});

/**
 * A domain message as mrkdwn: its words are plain text, escaped here, except the conversation mentions
 * (`<#C…>`) the domain writes on purpose.
 */
export const messageMrkdwn = (message: string): string =>
  message
    .split(/(<#[CGD][A-Z0-9]+>)/)
    .map((part, i) => (i % 2 === 1 ? part : escapeMrkdwn(part)))
    .join("");
