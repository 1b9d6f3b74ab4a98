import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { cliCommand } from "../config/cli-command.js";
import type { AnyStorageSettings, Config } from "../config/config.js";
import { loadAccessPolicy, PolicyError, TRIAL_POLICY_SUMMARY } from "../config/policy-file.js";
import { keyProblem } from "../domain/object-key.js";
import type { AccessPolicy, Rule } from "../domain/policy.js";
import { awsProblem, type Checked, failed, passed, splitMessage } from "./check.js";

/** The first file under a prefix ("" for the whole bucket), or undefined when there is none; S3 errors throw. */
export type FileSampler = (prefix: string) => Promise<string | undefined>;

/**
 * Lists a few keys under each prefix once, however many rules name it. Folder markers (`reports/`) and
 * keys Handout refuses to serve are not files to share, so a prefix holding only those counts as empty.
 */
export function fileSampler(s3: S3Client, bucket: string): FileSampler {
  const seen = new Map<string, Promise<string | undefined>>();
  return (prefix) => {
    let sample = seen.get(prefix);
    if (!sample) {
      sample = s3
        .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, MaxKeys: 20 }))
        .then((page) =>
          page.Contents?.map((object) => object.Key).find(
            (key): key is string => key !== undefined && keyProblem(key) === undefined,
          ),
        );
      seen.set(prefix, sample);
    }
    return sample;
  };
}

const BUCKET = "Bucket";
const POLICY = "Access policy";

const bucketProblem = (error: unknown, bucket: string): { detail: string; fix: string } => {
  const name = (error as { name?: string }).name;
  if (name === "NoSuchBucket") {
    return {
      detail: `there is no bucket ${bucket}`,
      fix: "Set HANDOUT_BUCKET to the name of the bucket that holds the files.",
    };
  }
  if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed") {
    return {
      detail: `the bucket ${bucket} is in another region (${name})`,
      fix: "Set AWS_REGION to the bucket's region.",
    };
  }
  return awsProblem(error, `s3:ListBucket on arn:aws:s3:::${bucket} (Handout lists it to search files)`);
};

/** The bucket answers a listing, as Handout's search needs. Hands on a file, if the bucket has any. */
export async function checkBucket(sample: FileSampler, bucket: string): Promise<Checked<string>> {
  try {
    const key = await sample("");
    return passed(
      BUCKET,
      key ? `s3://${bucket} can be listed` : `s3://${bucket} can be listed but is empty`,
      key,
    );
  } catch (error) {
    const { detail, fix } = bucketProblem(error, bucket);
    return failed(BUCKET, `cannot list s3://${bucket}: ${detail}`, fix);
  }
}

/** The policy file reads and validates, as at start-up. */
export async function checkPolicy(
  config: Pick<Config<AnyStorageSettings>, "policyFile" | "trialPolicyAllowed" | "storage">,
  file: string,
): Promise<Checked<AccessPolicy>> {
  try {
    const { policy, trial } = await loadAccessPolicy(config, { file });
    if (trial) {
      return passed(
        POLICY,
        `no ${file}, so the built-in trial policy is in force: ${TRIAL_POLICY_SUMMARY} (copy access.example.yml to ${file} to decide who may share what)`,
        policy,
      );
    }
    const count = policy.rules.length;
    return passed(POLICY, `${file}: ${count} rule${count === 1 ? "" : "s"}`, policy);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const [first] = error.problems;
    if (error.problems.length === 1 && first && first.line === undefined) {
      const { detail, fix } = splitMessage(first.message, file);
      return failed(POLICY, `${file}: ${detail}`, fix);
    }
    const where = first?.line === undefined ? "" : ` (the first on line ${first.line})`;
    return failed(
      POLICY,
      `${file} has ${error.problems.length === 1 ? "a problem" : `${error.problems.length} problems`}${where}`,
      `Run \`${cliCommand()} policy check ${file}\`: it lists each problem with its line and fix.`,
    );
  }
}

const describePrefix = (prefix: string): string => (prefix === "" ? "the whole bucket" : prefix);

/** Every prefix the rule grants holds at least one file. Hands on a file, for the live check. */
export async function checkRuleFiles(
  rule: Rule,
  sample: FileSampler,
  bucket: string,
): Promise<Checked<string>> {
  const name = `Rule "${rule.name}"`;
  const empty: string[] = [];
  let file: string | undefined;
  try {
    for (const prefix of rule.prefixes) {
      const key = await sample(prefix);
      if (key) file ??= key;
      else empty.push(describePrefix(prefix));
    }
  } catch (error) {
    const { detail, fix } = bucketProblem(error, bucket);
    return failed(name, `cannot list its prefixes: ${detail}`, fix);
  }
  const prefixes = rule.prefixes.map(describePrefix).join(", ");
  if (empty.length === 0) return passed(name, `files found in ${prefixes}`, file);
  return {
    ...failed(
      name,
      `no files in ${empty.join(", ")}: people it names would find nothing to share there`,
      "Correct the prefix in the policy (prefixes are case-sensitive folders, such as reports/2026/), or upload the files.",
    ),
    ...(file === undefined ? {} : { found: file }),
  };
}
