/** Escapes text for Slack mrkdwn, where `&`, `<` and `>` are control characters. */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A time shown in each reader's own time zone, with a UTC fallback for clients that cannot. */
export const slackDate = (date: Date): string => {
  const seconds = Math.floor(date.getTime() / 1000);
  const fallback = `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${seconds}^{date_short_pretty} at {time}|${fallback}>`;
};

/** The file name and its folder, as a person reads a key. */
export function splitKey(key: string): { name: string; folder: string } {
  const slash = key.lastIndexOf("/");
  return slash === -1
    ? { name: key, folder: "" }
    : { name: key.slice(slash + 1), folder: key.slice(0, slash + 1) };
}
