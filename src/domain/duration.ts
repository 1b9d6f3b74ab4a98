import { formatDuration as formatDurationText } from "date-fns";

const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
type Unit = keyof typeof UNIT_SECONDS;

const DURATION = /^(\d{1,6})\s*(m|h|d|w)$/;

/** Parses `90m`, `36h`, `7d`, `2w` into seconds; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as Unit;
  return amount > 0 ? amount * UNIT_SECONDS[unit] : undefined;
}

const LARGEST_FIRST = [
  ["weeks", 604_800],
  ["days", 86_400],
  ["hours", 3600],
  ["minutes", 60],
] as const;

/** The same few durations (presets, each policy's limits) are written on every share form. */
const formatted = new Map<number, string>();

/** `7 days`, `36 hours`, `1 week`: the largest unit that divides the duration exactly. */
export function formatDuration(seconds: number): string {
  let text = formatted.get(seconds);
  if (text !== undefined) return text;
  const unit = LARGEST_FIRST.find(([, size]) => seconds >= size && seconds % size === 0);
  text = formatDurationText(unit ? { [unit[0]]: seconds / unit[1] } : { seconds });
  if (formatted.size >= 1000) formatted.clear();
  formatted.set(seconds, text);
  return text;
}
