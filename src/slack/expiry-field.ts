/** The one reader of a form's expiry: a preset duration, or a date and time picked (which wins). */
import { expiryProblem } from "../domain/expiry.js";
import { actionOf, Field } from "./ids.js";

export type ExpiryField = typeof Field.expiry | typeof Field.expiryAt;

interface ExpiryState {
  selected_option?: { value?: unknown } | null;
  selected_date_time?: number | null;
}

export type ExpiryValues = Record<string, Record<string, ExpiryState | undefined> | undefined>;

/**
 * The expiry a form asks for, and the field it came from (for an error next to it); or what is wrong,
 * in the words shown next to that field. Whether the policy allows it is judged later, from trusted data.
 */
export function readExpiry(
  values: ExpiryValues,
  now: Date,
): { expiresAt: Date; field: ExpiryField; error?: undefined } | { field: ExpiryField; error: string } {
  const at = values[Field.expiryAt]?.[actionOf(Field.expiryAt)]?.selected_date_time;
  if (typeof at === "number" && Number.isFinite(at)) {
    const expiresAt = new Date(at * 1000);
    const problem = expiryProblem(expiresAt, now);
    return problem ? { field: Field.expiryAt, error: problem.message } : { expiresAt, field: Field.expiryAt };
  }
  const preset = Number(values[Field.expiry]?.[actionOf(Field.expiry)]?.selected_option?.value);
  if (Number.isInteger(preset) && preset > 0) {
    return { expiresAt: new Date(now.getTime() + preset * 1000), field: Field.expiry };
  }
  return { field: Field.expiry, error: "Choose how long the links last." };
}
