import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Config } from "../config/config.js";
import { loadAccessPolicy, TRIAL_POLICY_SUMMARY } from "../config/policy-file.js";
import type { AccessPolicy } from "../domain/policy.js";
import type { Logger } from "../logger.js";

/** What reading the policy file again did: taken, or refused with the old policy kept. */
export type PolicyReload =
  | { readonly ok: true; readonly rules: number }
  | { readonly ok: false; readonly error: string };

/** The policy in force, and its reading again: the one place that decides which policy applies. */
export interface PolicyHolder {
  current(): AccessPolicy;
  /** Reads the policy file again; `onTaken` sees the old and the new policy once a valid one is taken. */
  reload(onTaken: (before: AccessPolicy, after: AccessPolicy) => void): Promise<PolicyReload>;
}

/** The policy in force (see `loadAccessPolicy`), saying so when it is the trial policy. */
async function loadPolicy(
  config: Config,
  logger: Logger,
  options: { trialAllowed?: boolean } = {},
): Promise<{ policy: AccessPolicy; trial: boolean }> {
  const loaded = await loadAccessPolicy(config, options);
  if (loaded.trial) {
    logger.warn(
      { policyFile: config.policyFile },
      `no access policy: ${TRIAL_POLICY_SUMMARY}; copy access.example.yml to access.yml to decide who may share what`,
    );
  }
  return loaded;
}

/** The first 12 hex digits of a file's SHA-256, or undefined when it cannot be read. */
const fileDigest = (path: string): Promise<string | undefined> =>
  readFile(path).then(
    (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 12),
    () => undefined,
  );

/** Loads the policy at start-up (a failure is final) and holds it for every request after. */
export async function holdPolicy(config: Config, logger: Logger): Promise<PolicyHolder> {
  let { policy, trial } = await loadPolicy(config, logger);
  let reloading: Promise<PolicyReload> = Promise.resolve({ ok: true, rules: policy.rules.length });
  return {
    current: () => policy,
    reload(onTaken) {
      // One at a time, in the order asked: an older read finishing last must not win.
      reloading = reloading.then(async (): Promise<PolicyReload> => {
        let next: { policy: AccessPolicy; trial: boolean };
        try {
          next = await loadPolicy(config, logger, { trialAllowed: trial });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          logger.error(
            { policyFile: config.policyFile, err: error },
            "the policy file was not taken; the policy in force stays",
          );
          return { ok: false, error: message };
        }
        const before = policy;
        ({ policy, trial } = next);
        onTaken(before, policy);
        logger.info(
          {
            policyFile: config.policyFile,
            rules: policy.rules.length,
            // What was read, so that an unchanged file (a stale bind mount, say) shows.
            sha256: trial ? undefined : await fileDigest(config.policyFile),
          },
          "read the access policy again",
        );
        return { ok: true, rules: policy.rules.length };
      });
      return reloading;
    },
  };
}
