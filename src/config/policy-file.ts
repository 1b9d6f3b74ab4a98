import { readFile } from "node:fs/promises";
import { type Document, isMap, LineCounter, parseDocument } from "yaml";
import * as z from "zod";
import { formatDuration, parseDuration } from "../domain/duration.js";
import { HandoutError, isHandoutError } from "../domain/errors.js";
import { keyProblem } from "../domain/object-key.js";
import {
  type AccessPolicy,
  type Audience,
  normalizeGroupHandle,
  OPEN_EITHER,
  type OpenRule,
  type Rule,
} from "../domain/policy.js";
import type { AnyStorageSettings, Config } from "./config.js";

export const DEFAULT_MAX_EXPIRY = "7d";
export const DEFAULT_EXPIRY = "1d";

export interface PolicyProblem {
  readonly line: number | undefined;
  readonly message: string;
}

const byLine = (a: PolicyProblem, b: PolicyProblem): number => (a.line ?? 0) - (b.line ?? 0);

export class PolicyError extends HandoutError {
  /** In the order of the file's lines. */
  readonly problems: readonly PolicyProblem[];

  constructor(
    readonly file: string,
    problems: readonly PolicyProblem[],
    code: "POLICY_INVALID" | "POLICY_FILE_MISSING" = "POLICY_INVALID",
  ) {
    super(
      code,
      [
        `The access policy ${file} has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}:`,
        ...[...problems]
          .sort(byLine)
          .map((p) => `  ${file}${p.line === undefined ? "" : `:${p.line}`}: ${p.message}`),
      ].join("\n"),
    );
    this.problems = [...problems].sort(byLine);
  }
}

const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: "must be a duration such as 90m, 36h, 7d or 2w",
});

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, {
  message:
    "users are named by member ID, like U0123ABCD (in Slack: the person's profile → ⋮ → Copy member ID)",
});
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, {
  message:
    "channels are named by ID, like C0123ABCD (in Slack: the channel's name → About; the ID is at the bottom)",
});
const group = z.string().regex(/^(S[A-Z0-9]{2,}|@?[a-z0-9][a-z0-9._-]*)$/i, {
  message: "user groups are named by handle (finance or @finance) or by ID (S0123ABCD)",
});

const openSchema = z.enum(["members", "link", "choice"], {
  message:
    "must be members (only people in the conversation can open the links), link (anyone with the link) or choice (the sharer picks)",
});
const openDefaultSchema = z.enum(["members", "link"], {
  message: "must be members or link: the choice preselected when the sharer picks",
});

const audienceSchema = z.strictObject({
  everyone: z.boolean().optional(),
  groups: z.array(group).optional(),
  channels: z.array(channelId).optional(),
  users: z.array(userId).optional(),
  guests: z.boolean().optional(),
});

const ruleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  who: audienceSchema,
  prefixes: z.array(z.string()).optional(),
  whole_bucket: z.boolean().optional(),
  max_expiry: duration.optional(),
  default_expiry: duration.optional(),
  announce: z.boolean().optional(),
  open: openSchema.optional(),
  open_default: openDefaultSchema.optional(),
  guests_may_open: z.boolean().optional(),
});

// Each rule is checked on its own (below), so that one rule's mistake never hides another's.
const policySchema = z.strictObject({
  version: z.unknown().optional(),
  contact: z.string().min(1).optional(),
  allow_external_channels: z.boolean().optional(),
  defaults: z
    .strictObject({ max_expiry: duration.optional(), default_expiry: duration.optional() })
    .optional(),
  admins: audienceSchema.optional(),
  rules: z.array(z.unknown()),
});

type Issue = z.core.$ZodIssue;

/**
 * Parses `value`; on failure keeps the issues (their paths under `at`) and parses again without the
 * settings at fault, unless one of them is `required`: what is left is still checked for its own sake.
 */
function parseLeniently<T>(
  schema: z.ZodType<T>,
  value: unknown,
  at: Path,
  required: readonly string[],
  issues: { path: Path; issue: Issue }[],
): T | undefined {
  const first = schema.safeParse(value);
  if (first.success) return first.data;
  for (const issue of first.error.issues) issues.push({ path: [...at, ...(issue.path as Path)], issue });
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const faulty = new Set<string>();
  for (const issue of first.error.issues) {
    const [head] = issue.path;
    if (typeof head === "string") faulty.add(head);
    else if (issue.code === "unrecognized_keys") for (const key of issue.keys) faulty.add(key);
  }
  if (faulty.size === 0 || [...faulty].some((key) => required.includes(key))) return undefined;
  const rest = Object.fromEntries(Object.entries(value).filter(([key]) => !faulty.has(key)));
  const second = schema.safeParse(rest);
  return second.success ? second.data : undefined;
}

/** A value as the file wrote it, for messages. */
function shown(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a group of settings";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

const ACCEPTED: Record<string, string> = {
  boolean: "true or false",
  string: "text (in quotes if it could be read as something else)",
  array: "a list: one `- item` a line, or [a, b]",
  object: "settings of its own (`key: value` lines indented beneath it)",
  number: "a number",
};

/** One schema issue in plain words: what the file says, and what is accepted there. */
function describeIssue(data: unknown, path: Path, issue: Issue): string {
  const where = describePath(path) || "the file";
  const value = valueAt(data, path);
  if (issue.code === "invalid_type") {
    if (value === undefined) return `${where} is missing: add it (see access.example.yml)`;
    const accepted = ACCEPTED[issue.expected] ?? issue.expected;
    return `${where} is ${shown(value)}, but must be ${accepted}`;
  }
  if (issue.code === "too_small" && typeof value === "string") {
    return `${where} is empty: write some text, or remove it`;
  }
  return `${where} ${issue.message.replace(/^Invalid input: /, "")}`;
}

type RawAudience = z.infer<typeof audienceSchema>;
type Path = (string | number)[];

/** The line a path in the document starts on; for a missing path, the line of its nearest parent. */
function lineOf(doc: Document, lines: LineCounter, path: Path, key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (depth === path.length && key !== undefined && isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

const valueAt = (data: unknown, path: Path): unknown =>
  path.reduce<unknown>((node, part) => (node as Record<string | number, unknown> | undefined)?.[part], data);

const describePath = (path: Path): string =>
  path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    "",
  );

const audience = (raw: RawAudience | undefined): Audience => ({
  everyone: raw?.everyone ?? false,
  groups: (raw?.groups ?? []).map((g) => (/^S[A-Z0-9]{2,}$/.test(g) ? g : normalizeGroupHandle(g))),
  channels: raw?.channels ?? [],
  users: raw?.users ?? [],
  guests: raw?.guests ?? false,
});

const namesSomebody = (raw: RawAudience): boolean =>
  raw.everyone === true || [raw.groups, raw.channels, raw.users].some((list) => (list?.length ?? 0) > 0);

/** A folder prefix as the policy writes it, normalised to end in `/`; or why it cannot be one. */
function normalizePrefix(text: string): { prefix: string } | { problem: string } {
  const trimmed = text.replace(/\/+$/, "");
  if (trimmed === "" || trimmed === "*") {
    return {
      problem: "an empty prefix would grant the whole bucket: write `whole_bucket: true` if that is meant",
    };
  }
  const problem = keyProblem(trimmed);
  if (problem)
    return {
      problem: `${problem.replace(/^the key/, "the prefix")}: write a folder path such as reports/2026/`,
    };
  return { prefix: `${trimmed}/` };
}

/** Parses and validates a policy's text; `file` names it in every message. */
export function parsePolicy(text: string, file: string): AccessPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      file,
      doc.errors.map((error) => ({
        line: lines.linePos(error.pos[0]).line,
        message: `this is not valid YAML (${error.message.split("\n")[0]}): check the indentation and brackets`,
      })),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const problems: PolicyProblem[] = [];
  const report = (path: Path, message: string, key?: string) =>
    problems.push({ line: lineOf(doc, lines, path, key), message });

  const issues: { path: Path; issue: Issue }[] = [];
  const top = parseLeniently(policySchema, data, [], ["rules"], issues);
  const version = valueAt(data, ["version"]);
  if (version !== undefined && version !== 1) {
    report(
      ["version"],
      `version is ${shown(version)}, but this Handout reads version 1 only: write version: 1, or leave it out`,
    );
  }
  const rawRules = (top?.rules ?? []).map((rule, index) =>
    parseLeniently(ruleSchema, rule, ["rules", index], ["who"], issues),
  );
  for (const { path, issue } of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const where = describePath([...path, key]);
        report(path, `${where} is not a setting Handout knows: remove it or check its spelling`, key);
      }
    } else {
      report(path, describeIssue(data, path, issue));
    }
  }

  const raw = top ?? { rules: [] };
  const defaultMax = parseDuration(raw.defaults?.max_expiry ?? DEFAULT_MAX_EXPIRY) as number;
  const defaultExpiry = parseDuration(raw.defaults?.default_expiry ?? DEFAULT_EXPIRY) as number;
  if (raw.defaults?.default_expiry && defaultExpiry > defaultMax) {
    report(
      ["defaults", "default_expiry"],
      "defaults.default_expiry is longer than defaults.max_expiry: shorten it",
    );
  }
  if (raw.admins && !namesSomebody(raw.admins)) {
    report(["admins"], "admins names nobody: add groups, channels or users");
  }

  const rules: Rule[] = rawRules.flatMap((rawRule, index) => {
    if (!rawRule) return [];
    const at = (...rest: Path): Path => ["rules", index, ...rest];
    const name = rawRule.name ?? `rule ${index + 1}`;
    if (!namesSomebody(rawRule.who)) {
      report(at("who"), `${name}: who names nobody: add groups, channels, users or everyone: true`);
    }
    const prefixes: string[] = [];
    if (rawRule.whole_bucket === true) {
      if (rawRule.prefixes?.length) {
        report(at("prefixes"), `${name}: has both whole_bucket and prefixes: keep one of them`);
      }
      prefixes.push("");
    } else if (!rawRule.prefixes?.length) {
      report(at(), `${name}: grants no files: add prefixes (folders such as reports/) or whole_bucket: true`);
    }
    if (rawRule.whole_bucket !== true) {
      rawRule.prefixes?.forEach((text, i) => {
        const result = normalizePrefix(text);
        if ("problem" in result)
          report(at("prefixes", i), `${name}: prefix ${JSON.stringify(text)}: ${result.problem}`);
        else prefixes.push(result.prefix);
      });
    }
    const maxExpirySeconds = rawRule.max_expiry ? (parseDuration(rawRule.max_expiry) as number) : defaultMax;
    const preferred = rawRule.default_expiry
      ? (parseDuration(rawRule.default_expiry) as number)
      : defaultExpiry;
    if (rawRule.default_expiry && preferred > maxExpirySeconds) {
      report(
        at("default_expiry"),
        `${name}: default_expiry (${formatDuration(preferred)}) is longer than max_expiry (${formatDuration(maxExpirySeconds)}): shorten it`,
      );
    }
    let open: OpenRule = OPEN_EITHER;
    if (rawRule.open === "members" || rawRule.open === "link") {
      open = { allowed: [rawRule.open], preferred: rawRule.open };
      if (rawRule.open_default !== undefined) {
        report(
          at("open_default"),
          `${name}: open_default only applies with open: choice (this rule says open: ${rawRule.open}): remove it`,
        );
      }
    } else if (rawRule.open_default !== undefined) {
      open = { allowed: OPEN_EITHER.allowed, preferred: rawRule.open_default };
    }
    if (rawRule.guests_may_open === true && rawRule.open === "link") {
      report(
        at("guests_may_open"),
        `${name}: guests_may_open applies to members-only links, and this rule says open: link: remove one of them`,
      );
    }
    return [
      {
        name,
        who: audience(rawRule.who),
        open,
        guestsMayOpen: rawRule.guests_may_open ?? false,
        prefixes,
        maxExpirySeconds,
        defaultExpirySeconds: Math.min(preferred, maxExpirySeconds),
        announce: rawRule.announce ?? false,
      },
    ];
  });

  if (problems.length > 0) throw new PolicyError(file, problems);
  return {
    rules,
    admins: audience(raw.admins),
    contact: raw.contact,
    allowExternalChannels: raw.allow_external_channels ?? false,
  };
}

const missingFile = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === "ENOENT";

export async function loadPolicyFile(file: string): Promise<AccessPolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const missing = missingFile(error);
    throw new PolicyError(
      file,
      [
        {
          line: undefined,
          message: `cannot read the file (${missing ? "it does not exist" : String(error)}): copy access.example.yml to ${file}, or set HANDOUT_POLICY_FILE`,
        },
      ],
      missing ? "POLICY_FILE_MISSING" : "POLICY_INVALID",
    );
  }
  return parsePolicy(text, file);
}

/** For trying Handout on a local folder: everyone (not guests) may share everything in it for a week. */
const TRIAL_POLICY = `rules:
  - name: Everyone, while trying Handout on a local folder
    who: { everyone: true }
    whole_bucket: true
    max_expiry: 7d
`;

export const TRIAL_POLICY_SUMMARY =
  "everyone in the workspace (not guests) may share every file in the local folder for up to 7 days";

/**
 * The policy in force: the file, or — in the embedded default, with HANDOUT_POLICY_FILE unset and no
 * file at the default path — the trial policy. A file named on purpose must exist: a typo in its name
 * must not open sharing to everyone. `trialAllowed: false` refuses the trial too (a file removed while
 * Handout runs). `file` is the path to read, which is `config.policyFile` resolved where needed.
 */
export async function loadAccessPolicy(
  config: Pick<Config<AnyStorageSettings>, "policyFile" | "trialPolicyAllowed" | "storage">,
  { file = config.policyFile, trialAllowed = true } = {},
): Promise<{ policy: AccessPolicy; trial: boolean }> {
  try {
    return { policy: await loadPolicyFile(file), trial: false };
  } catch (error) {
    // Decided by the code, never by the words: only a file that is not there at all means the trial.
    if (!isHandoutError(error, "POLICY_FILE_MISSING")) throw error;
    if (config.trialPolicyAllowed && trialAllowed) {
      return { policy: parsePolicy(TRIAL_POLICY, "the built-in trial policy"), trial: true };
    }
    if (config.storage.mode === "local" && !config.trialPolicyAllowed) {
      throw new PolicyError(
        file,
        [
          {
            line: undefined,
            message:
              "HANDOUT_POLICY_FILE names this file, which does not exist: fix the path or copy access.example.yml there, or unset HANDOUT_POLICY_FILE to use the built-in trial policy",
          },
        ],
        "POLICY_FILE_MISSING",
      );
    }
    throw error;
  }
}
