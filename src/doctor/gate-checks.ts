import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { AnyStorageSettings, Config } from "../config/config.js";
import type { AccessPolicy } from "../domain/policy.js";
import { type CheckResult, failed, passed, skipped } from "./check.js";

/** Where Sign in with Slack sends people back: the gate's callback on Handout's public address. */
export const gateCallbackUrl = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, "")}/o/callback`;

const GATE = "Members-only links";

/** The rules that force members-only links: their files cannot be shared at all without the gate. */
const forcingRules = (policy: AccessPolicy | undefined): string[] =>
  (policy?.rules ?? [])
    .filter((rule) => rule.open.allowed.length === 1 && rule.open.allowed[0] === "members")
    .map((rule) => `“${rule.name}”`);

/** Without HANDOUT_PUBLIC_URL: says that members-only links are off, and fails if the policy needs them. */
export function checkGateOff(
  config: Config<AnyStorageSettings>,
  policy: AccessPolicy | undefined,
): CheckResult {
  const forcing = forcingRules(policy);
  if (forcing.length > 0) {
    return failed(
      GATE,
      `the access policy's rule ${forcing.join(", ")} says open: members, and HANDOUT_PUBLIC_URL is not set, so its files cannot be shared`,
      "Set HANDOUT_PUBLIC_URL, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (see README, “Members-only links”), or change the rule to open: choice.",
    );
  }
  const socket = config.slack?.appToken !== undefined;
  // Off is a choice, not a fault: said, so that nobody wonders why the modal never offers them.
  return passed(
    GATE,
    socket
      ? "off: HANDOUT_PUBLIC_URL is not set, so members-only links are not offered: in Socket Mode Handout needs no public address for Slack, but the gate does (see README, “Members-only links”)"
      : "off: HANDOUT_PUBLIC_URL is not set, so members-only links are not offered",
  );
}

export interface GateCheckDeps {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** The Slack app manifest the operator keeps (manifest.yml where the doctor runs). */
  readonly manifestFile: string;
}

/** The public address answers /healthz: people's browsers can reach the gate there. */
export async function checkGateReachable(publicUrl: string, deps: GateCheckDeps): Promise<CheckResult> {
  const name = "Gate address";
  const url = `${publicUrl.replace(/\/+$/, "")}/healthz`;
  try {
    const response = await deps.fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.body?.cancel();
    if (response.status === 200) return passed(name, `${url} answers`);
    return failed(
      name,
      `${url} answered ${response.status}`,
      "Route HANDOUT_PUBLIC_URL to Handout's HTTP server (PORT), or its CloudFront behaviour for /o/* and /healthz to Handout (see README).",
    );
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? "no answer in time" : "could not connect";
    return failed(
      name,
      `${url}: ${reason}`,
      "Check HANDOUT_PUBLIC_URL: people's browsers must reach Handout there (see README, “Members-only links”).",
    );
  }
}

interface Manifest {
  oauth_config?: { redirect_urls?: unknown; scopes?: { user?: unknown } };
}

const listOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/** The manifest lists the gate's redirect URL and the `openid` and `profile` user scopes. */
export async function checkGateManifest(publicUrl: string, deps: GateCheckDeps): Promise<CheckResult> {
  const name = "Gate redirect URL";
  const callback = gateCallbackUrl(publicUrl);
  let text: string;
  try {
    text = await readFile(deps.manifestFile, "utf8");
  } catch {
    return skipped(
      name,
      `no manifest.yml here to read: make sure the Slack app lists ${callback} under OAuth & Permissions → Redirect URLs, with the openid and profile user scopes`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = (parse(text) ?? {}) as Manifest;
  } catch {
    return failed(name, "manifest.yml is not valid YAML", "Fix manifest.yml, then run the doctor again.");
  }
  const redirects = listOf(manifest.oauth_config?.redirect_urls);
  const scopes = listOf(manifest.oauth_config?.scopes?.user);
  const missingScopes = ["openid", "profile"].filter((scope) => !scopes.includes(scope));
  if (!redirects.includes(callback)) {
    return failed(
      name,
      `manifest.yml does not list ${callback} in oauth_config.redirect_urls`,
      `Add ${callback} to oauth_config.redirect_urls, then update the Slack app from the manifest.`,
    );
  }
  if (missingScopes.length > 0) {
    return failed(
      name,
      `manifest.yml lacks the user scope${missingScopes.length === 1 ? "" : "s"} ${missingScopes.join(" and ")}`,
      "Add openid and profile under oauth_config.scopes.user, then update the Slack app from the manifest.",
    );
  }
  return passed(name, `${callback}, with the openid and profile user scopes`);
}

/** The gate's checks, in order: without the gate, one line saying so. */
export async function gateChecks(
  config: Config<AnyStorageSettings>,
  policy: AccessPolicy | undefined,
  deps: GateCheckDeps,
): Promise<CheckResult[]> {
  const gate = config.gate;
  if (!gate) return [checkGateOff(config, policy)];
  return Promise.all([
    // Set when the gate is: the configuration refuses HANDOUT_PUBLIC_URL without them.
    passed(GATE, `on: links start with ${gate.publicUrl}; SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set`),
    checkGateReachable(gate.publicUrl, deps),
    checkGateManifest(gate.publicUrl, deps),
  ]);
}
