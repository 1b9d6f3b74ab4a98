import { parseArgs } from "node:util";
import { loadConfig } from "../config/config.js";
import { loadPolicyFile } from "../config/policy-file.js";
import { formatDuration } from "../domain/duration.js";
import type { Audience } from "../domain/policy.js";
import { type CliIo, UsageError } from "./io.js";

export const POLICY_USAGE = "policy check [FILE]";

const isId = (group: string) => /^S[A-Z0-9]{2,}$/.test(group);

export function describeAudience(who: Audience): string {
  const parts: string[] = [];
  if (who.everyone) parts.push("everyone in the workspace");
  if (who.groups.length) parts.push(`groups ${who.groups.map((g) => (isId(g) ? g : `@${g}`)).join(", ")}`);
  if (who.channels.length) parts.push(`members of ${who.channels.join(", ")}`);
  if (who.users.length) parts.push(`users ${who.users.join(", ")}`);
  const people = parts.length ? parts.join("; ") : "nobody";
  return who.guests ? `${people} (guests included)` : people;
}

export async function policyCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [sub, file, ...extra] = positionals;
  if (sub !== "check" || extra.length > 0) throw new UsageError("policy has one subcommand: check [FILE].");
  const path = file ?? loadConfig(io.env).policyFile;
  const policy = await loadPolicyFile(path);
  const lines = [
    `✓ ${path} is valid: ${policy.rules.length} rule${policy.rules.length === 1 ? "" : "s"}.`,
    "",
  ];
  for (const rule of policy.rules) {
    lines.push(
      rule.name,
      `  who:      ${describeAudience(rule.who)}`,
      `  shares:   ${rule.prefixes.map((p) => (p === "" ? "the whole bucket" : p)).join(", ")}`,
      `  expiry:   up to ${formatDuration(rule.maxExpirySeconds)} (offered first: ${formatDuration(rule.defaultExpirySeconds)})`,
      `  announce: ${rule.announce ? "yes" : "no"}`,
      "",
    );
  }
  lines.push(
    `Admins: ${describeAudience(policy.admins)}`,
    `Contact shown to people without access: ${policy.contact ?? "(none set: add `contact:` so people know whom to ask)"}`,
    `Links in channels shared with other organisations: ${policy.allowExternalChannels ? "allowed" : "refused"}`,
    "Anyone else may share nothing.",
  );
  io.out(`${lines.join("\n")}\n`);
  return 0;
}
