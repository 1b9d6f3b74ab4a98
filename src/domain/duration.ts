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

/** `7 days`, `36 hours`, `1 week`: the largest unit that divides the duration exactly. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of LARGEST_FIRST) {
    if (seconds >= size && seconds % size === 0) return formatDurationText({ [unit]: seconds / size });
  }
  return formatDurationText({ seconds });
}
