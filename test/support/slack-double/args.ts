/** Arguments as Slack reads them, and answers in its shape. */
export type Args = Record<string, unknown>;
export type Body = Record<string, unknown>;

export const fail = (error: string, extra: Body = {}): Body => ({ ok: false, error, ...extra });
export const invalidArguments = (message: string): Body =>
  fail("invalid_arguments", { response_metadata: { messages: [`[ERROR] ${message}`] } });

export const text = (args: Args, key: string): string | undefined => {
  const value = args[key];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
};
export const flag = (args: Args, key: string): boolean => {
  const value = args[key];
  return value === true || value === 1 || value === "true" || value === "1";
};
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON object or array in a form field is parsed back, as Slack does; anything else stays a string. */
function parseFormValue(value: string): unknown {
  const start = value.trimStart()[0];
  if (start !== "{" && start !== "[") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function parseArgs(
  contentType: string,
  raw: string,
  query: URLSearchParams,
): { args: Args; invalidJson: boolean } {
  const args: Args = {};
  for (const [key, value] of query) args[key] = parseFormValue(value);
  if (raw === "") return { args, invalidJson: false };
  if (contentType.includes("application/json")) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!isRecord(parsed)) return { args, invalidJson: true };
      return { args: { ...args, ...parsed }, invalidJson: false };
    } catch {
      return { args, invalidJson: true };
    }
  }
  for (const [key, value] of new URLSearchParams(raw)) args[key] = parseFormValue(value);
  return { args, invalidJson: false };
}
