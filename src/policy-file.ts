import { readFile } from "node:fs/promises";
import { type Document, isMap, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { formatDuration, parseDuration } from "./domain/duration.js";
import { HandoutError } from "./domain/errors.js";
import { keyProblem } from "./domain/object-key.js";
import { type AccessPolicy, type Audience, normalizeGroupHandle, type Rule } from "./domain/policy.js";

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
  ) {
    super(
      "POLICY_INVALID",
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
});

const policySchema = z.strictObject({
  version: z.literal(1).optional(),
  contact: z.string().min(1).optional(),
  allow_external_channels: z.boolean().optional(),
  defaults: z
    .strictObject({ max_expiry: duration.optional(), default_expiry: duration.optional() })
    .optional(),
  admins: audienceSchema.optional(),
  rules: z.array(ruleSchema),
});

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
  const parsed = policySchema.safeParse(data);
  const problems: PolicyProblem[] = [];
  const report = (path: Path, message: string, key?: string) =>
    problems.push({ line: lineOf(doc, lines, path, key), message });

  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Path;
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const where = describePath([...path, key]);
          report(path, `${where} is not a setting Handout knows: remove it or check its spelling`, key);
        }
      } else if (issue.code === "invalid_type" && valueAt(data, path) === undefined) {
        report(path, `${describePath(path)} is missing: add it (see access.example.yml)`);
      } else {
        report(path, `${describePath(path) || "the file"} ${issue.message.replace(/^Invalid input: /, "")}`);
      }
    }
    throw new PolicyError(file, problems);
  }

  const raw = parsed.data;
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

  const rules: Rule[] = raw.rules.map((rawRule, index) => {
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
    return {
      name,
      who: audience(rawRule.who),
      prefixes,
      maxExpirySeconds,
      defaultExpirySeconds: Math.min(preferred, maxExpirySeconds),
      announce: rawRule.announce ?? false,
    };
  });

  if (problems.length > 0) throw new PolicyError(file, problems);
  return {
    rules,
    admins: audience(raw.admins),
    contact: raw.contact,
    allowExternalChannels: raw.allow_external_channels ?? false,
  };
}

export async function loadPolicyFile(file: string): Promise<AccessPolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : String(error);
    throw new PolicyError(file, [
      {
        line: undefined,
        message: `cannot read the file (${reason}): copy access.example.yml to ${file}, or set HANDOUT_POLICY_FILE`,
      },
    ]);
  }
  return parsePolicy(text, file);
}
