import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Source files by their path from the repository root (`src/domain/policy.ts`), with their text. */
export type SourceFiles = ReadonlyMap<string, string>;

// Import statements start a line (Biome formats them so); `from "…"` may follow several lines of names.
const STATIC = /^\s*(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"/gm;
const SIDE_EFFECT = /^\s*import\s*"([^"]+)"/gm;
const DYNAMIC = /\bimport\(\s*"([^"]+)"\s*\)/g;

export function specifiers(text: string): string[] {
  return [STATIC, SIDE_EFFECT, DYNAMIC].flatMap((pattern) =>
    [...text.matchAll(pattern)].map((m) => m[1] as string),
  );
}

/** The file a relative specifier names (`./policy.js` → `src/domain/policy.ts`), or undefined for a package. */
export function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return posix.join(posix.dirname(from), specifier).replace(/\.js$/, ".ts");
}

const ADAPTERS = ["src/search/", "src/files/", "src/signing/", "src/links/", "src/ledger/", "src/slack/web/"];
const SLACK_UI = ["src/slack/blocks/", "src/slack/listeners/"];
/** The one package the domain may use: date arithmetic and ISO parsing, pure functions. */
const DOMAIN_PACKAGES = new Set(["date-fns"]);

const inside = (path: string, folders: readonly string[]) =>
  folders.some((folder) => path.startsWith(folder));

/** Every import that points the wrong way, and every import cycle, in plain sentences. */
export function importMapProblems(files: SourceFiles): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [path, text] of files) {
    const targets: string[] = [];
    for (const specifier of specifiers(text)) {
      const target = resolveSpecifier(path, specifier);
      if (target !== undefined) targets.push(target);
      if (path.startsWith("src/domain/")) {
        if (target === undefined ? !DOMAIN_PACKAGES.has(specifier) : !target.startsWith("src/domain/")) {
          problems.push(
            `${path} imports ${specifier}: the domain imports nothing outside src/domain/ but date-fns`,
          );
        }
      }
      if (target === undefined) continue;
      if (inside(path, ADAPTERS) && inside(target, SLACK_UI)) {
        problems.push(`${path} imports ${target}: adapters do not import Slack UI (blocks, listeners)`);
      }
      if (path.startsWith("src/config/") && inside(target, [...ADAPTERS, "src/app/"])) {
        problems.push(`${path} imports ${target}: config does not import adapters or the composition root`);
      }
    }
    graph.set(path, targets);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${[...cycle, cycle[0]].join(" → ")}`);
  return problems;
}

const CONSTRUCTION = /\bnew\s+(\w*Client)\s*\(/g;

/** Every SDK or Slack Web API client built outside src/app/ (where clients.ts builds them all). */
export function clientsBuiltOutsideApp(files: SourceFiles): string[] {
  return [...files].flatMap(([path, text]) =>
    path.startsWith("src/app/")
      ? []
      : [...text.matchAll(CONSTRUCTION)].map(
          (m) => `${path} builds a ${m[1]}: build it in src/app/clients.ts`,
        ),
  );
}

/** The strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.unshift(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** Every `.ts` file under `dir`, keyed by its path from `root` with forward slashes. */
export async function readSources(root: string, dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        files.set(relative(root, path).split("\\").join("/"), await readFile(path, "utf8"));
      }
    }
  };
  await walk(join(root, dir));
  return files;
}

export const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));
