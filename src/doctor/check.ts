/** A check's verdict: passed, failed, or not run because something it needs failed or is missing. */
export type Outcome = boolean | "skipped";

export interface CheckResult {
  readonly name: string;
  readonly ok: Outcome;
  /** What was found; for a skipped check, why it was skipped. Never a secret or a signed URL. */
  readonly detail?: string;
  /** What to do about a failure, in one line. */
  readonly fix?: string;
}

/** A result that also hands what it found to the checks that depend on it. */
export type Checked<T> = CheckResult & { readonly found?: T };

export const passed = <T>(name: string, detail?: string, found?: T): Checked<T> => ({
  name,
  ok: true,
  ...(detail === undefined ? {} : { detail }),
  ...(found === undefined ? {} : { found }),
});

// Failed and skipped checks found nothing: typed so that they stand in for any Checked<T>.
export const failed = (name: string, detail: string, fix: string): Checked<never> => ({
  name,
  ok: false,
  detail,
  fix,
});

export const skipped = (name: string, reason: string): CheckResult => ({
  name,
  ok: "skipped",
  detail: reason,
});

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Splits one of Handout's own error messages ("what happened: what to do" or "What happened. Do this.")
 * into a detail and a fix. `protect` (a secret name or a file path) is kept whole, whatever it contains.
 */
export function splitMessage(message: string, protect?: string): { detail: string; fix: string } {
  const placeholder = "\u0000";
  const text = protect ? message.split(protect).join(placeholder) : message;
  const restore = (part: string) => (protect ? part.split(placeholder).join(protect) : part);
  const sentence = /\.\s+(?=[A-Z])/.exec(text);
  const colon = text.indexOf(": ");
  const [at, width] = sentence ? [sentence.index, sentence[0].length] : colon >= 0 ? [colon, 2] : [-1, 0];
  if (at < 0) return { detail: restore(text.replace(/\.$/, "")), fix: "See the detail above." };
  return {
    detail: restore(text.slice(0, at).replace(/\.$/, "")),
    fix: capitalize(restore(text.slice(at + width).trim())).replace(/[^.!?]$/, "$&."),
  };
}

const errorName = (error: unknown): string => (error as { name?: string }).name ?? "Error";
const httpStatus = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** An AWS SDK failure as a detail and a fix; `permission` is the IAM action the call needs. */
export function awsProblem(error: unknown, permission: string): { detail: string; fix: string } {
  const name = errorName(error);
  if (/AccessDenied|Forbidden|UnauthorizedOperation/.test(name) || httpStatus(error) === 403) {
    return {
      detail: `access denied (${name})`,
      fix: `Allow ${permission} to the AWS credentials the doctor runs with.`,
    };
  }
  if (name === "CredentialsProviderError" || /credentials/i.test((error as Error).message ?? "")) {
    return {
      detail: `no AWS credentials (${name})`,
      fix: "Give the doctor AWS credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
    };
  }
  return {
    detail: `the request failed (${name})`,
    fix: "Check the network, AWS_REGION and the AWS credentials, then run the doctor again.",
  };
}
