import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeKeyPair } from "./support/keys.js";
import { startTestBucket, type TestBucket } from "./support/s3.js";
import { type SlackDouble, startSlackDouble } from "./support/slack-double.js";

/**
 * Docker cannot run here, so this test does what the Dockerfile says, step by step, in a folder per
 * stage: COPY from the build context (through .dockerignore) or from another stage, `npm run build`,
 * WORKDIR, ENV. The one step it does not repeat is `npm ci`: each stage's node_modules is this
 * checkout's (installed by the same lock file). Then it runs the final stage's CMD exactly, with `node`
 * being the Node that runs the tests (CI runs them on Node 24 too), checks the HEALTHCHECK command
 * against it, and stops it as `docker stop` does.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** `docker stop` waits this long after SIGTERM before it kills the container. */
const DOCKER_STOP_GRACE_MS = 10_000;

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let logical = lines[i]?.trim() ?? "";
    if (logical === "" || logical.startsWith("#")) continue;
    while (logical.endsWith("\\") && i + 1 < lines.length) {
      const next = (lines[++i] ?? "").trim();
      logical = `${logical.slice(0, -1).trimEnd()} ${next.startsWith("#") ? "" : next}`.trimEnd();
    }
    const match = /^(\S+)\s*(.*)$/.exec(logical);
    if (!match) continue;
    const keyword = (match[1] ?? "").toUpperCase();
    const args = match[2] ?? "";
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile:${line}: cannot read FROM ${args}`);
      stages.push({ image: from[1] ?? "", name: from[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile:${line}: ${keyword} before any FROM`);
      stage.instructions.push({ keyword, args, line });
    }
  }
  return stages;
}

/** A JSON array (exec form) or a shell string, as Docker reads CMD, ENTRYPOINT and RUN. */
const commandOf = (args: string): string[] =>
  args.trim().startsWith("[") ? (JSON.parse(args) as string[]) : ["/bin/sh", "-c", args];

const healthcheckCommand = (args: string): string[] => {
  const match = /\bCMD\s+(.*)$/.exec(args);
  if (!match?.[1]) throw new Error(`HEALTHCHECK without a command: ${args}`);
  return commandOf(match[1]);
};

/** KEY=value pairs, as in `ENV A=1 B=2` and `ARG NAME=default`. */
const assignments = (args: string): [string, string][] =>
  [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("[^"]*"|\S*))?/g)].map((m) => [
    m[1] ?? "",
    (m[2] ?? "").replace(/^"|"$/g, ""),
  ]);

/** Whether `path` (relative to the context) reaches the builder: the last matching pattern decides. */
function dockerignoreAllows(patterns: string[], path: string): boolean {
  const regexOf = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/^\/+|\/+$/g, "")
        .split(/(\*\*|\*|\?)/)
        .map((part) =>
          part === "**"
            ? ".*"
            : part === "*"
              ? "[^/]*"
              : part === "?"
                ? "[^/]"
                : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
        )
        .join("")}$`,
    );
  const segments = path.split("/");
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  let allowed = true;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const regex = regexOf(negated ? raw.slice(1) : raw);
    if (prefixes.some((prefix) => regex.test(prefix))) allowed = negated;
  }
  return allowed;
}

const dockerignorePatterns = (text: string): string[] =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

interface BuiltImage {
  /** The final stage's filesystem: where its `/` is. */
  root: string;
  /** The final stage's WORKDIR, in `root`. */
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
  user: string | undefined;
  volumes: string[];
  /** Folders made by `RUN mkdir D && chown OWNER D`, with their owner. */
  owners: Map<string, string>;
}

function run(command: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const [file, ...args] = command;
  const child = spawn(file === "node" ? process.execPath : (file as string), args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  return { child, exited, output: () => output };
}

/** Follows the Dockerfile's stages into folders under `root`; see the comment at the top. */
async function buildImage(stages: Stage[], ignore: string[], root: string): Promise<BuiltImage> {
  const stageDirs = new Map<string, string>();
  let final: BuiltImage | undefined;
  for (const [index, stage] of stages.entries()) {
    const fsRoot = join(root, `stage-${index}`);
    await mkdir(fsRoot, { recursive: true });
    if (stage.name) stageDirs.set(stage.name, fsRoot);
    let workdir = "/";
    const env: Record<string, string> = {};
    let cmd: string[] = [];
    let entrypoint: string[] = [];
    let healthcheck: string[] = [];
    let user: string | undefined;
    const volumes: string[] = [];
    const owners = new Map<string, string>();
    const inStage = (path: string) => join(fsRoot, posix.resolve(workdir, path));
    for (const { keyword, args, line } of stage.instructions) {
      const where = `Dockerfile:${line}`;
      if (keyword === "WORKDIR") {
        workdir = posix.resolve(workdir, args);
        await mkdir(inStage("."), { recursive: true });
      } else if (keyword === "ENV") {
        for (const [name, value] of assignments(args)) env[name] = value;
      } else if (keyword === "COPY") {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((word) => !word.startsWith("--"));
        const dest = paths.pop() as string;
        const intoFolder = dest.endsWith("/") || paths.length > 1;
        for (const source of paths) {
          let sourcePath: string;
          if (from) {
            const fromRoot = stageDirs.get(from);
            if (!fromRoot) throw new Error(`${where}: no stage named ${from}`);
            sourcePath = join(fromRoot, source);
          } else {
            expect(dockerignoreAllows(ignore, source), `${where}: .dockerignore keeps ${source} out`).toBe(
              true,
            );
            sourcePath = join(ROOT, source);
          }
          const target = intoFolder ? join(inStage(dest), basename(source)) : inStage(dest);
          await mkdir(join(target, ".."), { recursive: true });
          await cp(sourcePath, target, { recursive: true, verbatimSymlinks: true });
        }
      } else if (keyword === "RUN") {
        const madeFolder = /^mkdir (?:-p )?(\/\S+) && chown (\S+) \1$/.exec(args);
        if (madeFolder) {
          await mkdir(inStage(madeFolder[1] as string), { recursive: true });
          owners.set(madeFolder[1] as string, madeFolder[2] as string);
        } else if (/^npm ci\b/.test(args)) {
          // The one step not repeated: this checkout's node_modules, from the same lock file.
          await symlink(join(ROOT, "node_modules"), inStage("node_modules"), "dir");
        } else if (/^apt-get\b/.test(args)) {
          // Build tools for native addons; nothing to do here.
        } else if (args === "npm run build") {
          const build = run(["npm", "run", "build"], { cwd: inStage(".") });
          const code = await build.exited;
          if (code !== 0) throw new Error(`${where}: npm run build failed:\n${build.output()}`);
        } else {
          throw new Error(`${where}: this test does not know how to repeat RUN ${args}`);
        }
      } else if (keyword === "CMD") {
        cmd = commandOf(args);
      } else if (keyword === "ENTRYPOINT") {
        entrypoint = commandOf(args);
      } else if (keyword === "HEALTHCHECK") {
        healthcheck = healthcheckCommand(args);
      } else if (keyword === "USER") {
        user = args;
      } else if (keyword === "VOLUME") {
        volumes.push(...(args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/)));
      }
    }
    final = {
      root: fsRoot,
      workdir: inStage("."),
      env,
      cmd: [...entrypoint, ...cmd],
      healthcheck,
      user,
      volumes,
      owners,
    };
  }
  if (!final) throw new Error("the Dockerfile has no stage");
  return final;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

let dockerfile: string;
let stages: Stage[];
let ignore: string[];
let image: BuiltImage;
let root: string;
let bucket: TestBucket;
let slack: SlackDouble;
let containerEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  dockerfile = await readFile(join(ROOT, "Dockerfile"), "utf8");
  stages = parseDockerfile(dockerfile);
  ignore = dockerignorePatterns(await readFile(join(ROOT, ".dockerignore"), "utf8"));
  root = await mkdtemp(join(tmpdir(), "handout-image-"));
  image = await buildImage(stages, ignore, join(root, "image"));

  bucket = await startTestBucket();
  await bucket.put("public/handbook/handbook.pdf");
  slack = await startSlackDouble();
  const pair = makeKeyPair();
  const secrets = join(root, "run");
  await mkdir(secrets);
  await writeFile(join(secrets, "private_key.pem"), pair.privatePem, { mode: 0o600 });
  // As README's `docker run -v "$PWD/policy:/app/policy:ro" -e HANDOUT_POLICY_FILE=…` puts it.
  await mkdir(join(image.workdir, "policy"));
  await writeFile(
    join(image.workdir, "policy", "access.yml"),
    "contact: Ask #it-help.\nrules:\n  - who: { everyone: true }\n    prefixes: [public/handbook/]\n",
  );
  // The image's own ENV, with its container paths seen from here, and what `docker run -e …` adds.
  const imageEnv = Object.fromEntries(
    Object.entries(image.env).map(([name, value]) => [
      name,
      value.replace(/^(sqlite:)?(\/.*)$/, (_, scheme = "", path) => `${scheme}${join(image.root, path)}`),
    ]),
  );
  containerEnv = {
    PATH: process.env.PATH,
    ...imageEnv,
    ...bucket.env,
    PORT: String(await freePort()),
    LOG_LEVEL: "warn",
    HANDOUT_POLICY_FILE: join(image.workdir, "policy", "access.yml"),
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: "docker-test-signing-secret",
    SLACK_API_URL: slack.apiUrl,
    CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
    CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
    CLOUDFRONT_PRIVATE_KEY_FILE: join(secrets, "private_key.pem"),
  };
}, 120_000);

afterAll(async () => {
  await slack?.stop();
  await bucket?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the Dockerfile", () => {
  it("builds every stage from Node 24, the current LTS", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^(docker\.io\/)?(library\/)?node:24([.-]|$|@)/);
  });

  it("runs the app as a user other than root", () => {
    const final = stages.at(-1) as Stage;
    const users = final.instructions.filter((i) => i.keyword === "USER").map((i) => i.args.split(":")[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0"]).not.toContain(users.at(-1));
  });

  it("ships production dependencies only", () => {
    const final = stages.at(-1) as Stage;
    const modules = final.instructions.find((i) => i.keyword === "COPY" && /node_modules/.test(i.args));
    const from = /--from=(\S+)/.exec(modules?.args ?? "")?.[1];
    const source = stages.find((stage) => stage.name === from);
    const install = source?.instructions.find((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args));
    expect(install?.args).toMatch(/--omit=dev\b/);
    expect(
      final.instructions.filter((i) => i.keyword === "RUN" && /\bnpm (ci|install)\b/.test(i.args)),
    ).toEqual([]);
  });

  it("bakes in no secret: no ENV or ARG names one, and the build context holds none", () => {
    const names = stages.flatMap((stage) =>
      stage.instructions
        .filter((i) => i.keyword === "ENV" || i.keyword === "ARG")
        .flatMap((i) => assignments(i.args).map(([name]) => name)),
    );
    for (const name of names) expect(name).not.toMatch(/TOKEN|SECRET|PASSWORD|PRIVATE|CREDENTIAL|_KEY/i);
    expect(dockerfile).not.toMatch(/--mount=type=secret|xox[abp]-|BEGIN [A-Z ]*PRIVATE KEY/);

    expect(ignore[0]).toBe("*");
    for (const path of [".env", "keys/private_key.pem", "private_key.pem", "access.yml", ".git/config"]) {
      expect(dockerignoreAllows(ignore, path), path).toBe(false);
    }
    for (const path of ["node_modules/pino/package.json", "dist/main.js", "test/cli.test.ts"]) {
      expect(dockerignoreAllows(ignore, path), path).toBe(false);
    }
    for (const path of ["package.json", "package-lock.json", "src/main.ts", "src/slack/app.ts"]) {
      expect(dockerignoreAllows(ignore, path), path).toBe(true);
    }
  });

  it("keeps the share ledger in a volume that the app's user may write", () => {
    const ledger = /^sqlite:(\/.+)\/[^/]+$/.exec(image.env.HANDOUT_LEDGER ?? "");
    const folder = ledger?.[1] as string;
    expect(image.volumes).toContain(folder);
    expect(image.owners.get(folder)).toBe(image.user);
  });

  it("runs the compiled app and checks its health with a node script", async () => {
    expect(image.cmd).toEqual(["node", "dist/main.js"]);
    expect(image.healthcheck).toEqual(["node", "dist/healthcheck.js"]);
    for (const script of [image.cmd[1], image.healthcheck[1]]) {
      expect((await stat(join(image.workdir, script as string))).isFile()).toBe(true);
    }
  });
});

describe("the image's command, on what `npm run build` produced", () => {
  let app: { child: ChildProcess; exited: Promise<number | null>; output: () => string };

  const healthcheck = async () => {
    const check = run(image.healthcheck, { cwd: image.workdir, env: containerEnv });
    return check.exited;
  };

  async function waitUntilHealthy(): Promise<void> {
    const url = `http://127.0.0.1:${containerEnv.PORT}/healthz`;
    let exit: number | null | undefined;
    app.exited.then((code) => {
      exit = code;
    });
    for (let attempt = 0; attempt < 300; attempt++) {
      if (exit !== undefined) throw new Error(`the app exited with ${exit}:\n${app.output()}`);
      const answer = await fetch(url).catch(() => undefined);
      if (answer?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the app never answered ${url}:\n${app.output()}`);
  }

  it("starts, passes the HEALTHCHECK, reads its policy again on SIGHUP, and exits 0 on SIGTERM", async () => {
    expect(await healthcheck()).toBe(1);

    app = run(image.cmd, { cwd: image.workdir, env: containerEnv });
    await waitUntilHealthy();
    expect(await healthcheck()).toBe(0);
    // The ledger opened where the image's ENV says, in its volume.
    const ledger = (image.env.HANDOUT_LEDGER ?? "").replace(/^sqlite:/, "");
    expect((await stat(join(image.root, ledger))).isFile()).toBe(true);

    // `docker kill -s HUP` reads the access policy again: a broken file is refused, and the app
    // keeps serving with the policy it has.
    const policyFile = join(image.workdir, "policy", "access.yml");
    const policy = await readFile(policyFile, "utf8");
    try {
      await writeFile(policyFile, "rules: [oops\n");
      app.child.kill("SIGHUP");
      for (let i = 0; i < 100 && !app.output().includes("the policy in force stays"); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(app.output()).toContain("the policy file was not taken; the policy in force stays");
      expect(await healthcheck()).toBe(0);
    } finally {
      await writeFile(policyFile, policy);
    }

    app.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      app.exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve("still running when docker stop would kill it"),
          DOCKER_STOP_GRACE_MS,
        );
      }),
    ]);
    clearTimeout(timer);
    if (code !== 0) app.child.kill("SIGKILL");
    expect(code, app.output()).toBe(0);
    expect(await healthcheck()).toBe(1);
  }, 30_000);
});
