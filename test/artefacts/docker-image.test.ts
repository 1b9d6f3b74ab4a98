import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, chown, cp, link, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handoutEnv } from "../support/handout-env.js";
import { makeKeyPair } from "../support/keys.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { type SlackDouble, startSlackDouble } from "../support/slack-double.js";
import { tempFolder } from "../support/temp.js";

/**
 * Docker cannot run here, so this test does what the Dockerfile says, step by step, in a folder per
 * stage, from a clean copy of the repository (its files as git lists them, no node_modules, no dist):
 * COPY from the build context (through .dockerignore) or from another stage, each RUN's npm commands
 * exactly as written with Node 24 first on the PATH, WORKDIR, ENV. Then it runs the final stage's CMD
 * and HEALTHCHECK as the image's USER, with the app's files owned by root and only the image's ENV.
 * What a container has and this cannot: its own `/` (each VOLUME is a temporary folder, and the
 * image's paths in ENV are rewritten to it) and its own network (PORT is a free port, as `-p` would
 * map it).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

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

/** The base image's PATH; Node 24 stands in for its /usr/local/bin/node. */
const BASE_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** `docker stop` waits this long after SIGTERM before it kills the container. */
const DOCKER_STOP_GRACE_MS = 10_000;

interface BuiltImage {
  /** The final stage's WORKDIR: where the app's files are. */
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
  user: string | undefined;
  volumes: string[];
  /** Folders made by `RUN mkdir D && chown OWNER D`, with their owner. */
  owners: Map<string, string>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** Whether this test can drop to the image's user, as Docker does (as root: yes). */
const asRoot = process.getuid?.() === 0;

function run(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv; user?: string }): Running {
  const [file, ...args] = command;
  const [uid, gid] = (options.user ?? "").split(":").map(Number);
  const child = spawn(file as string, args, {
    cwd: options.cwd,
    env: options.env,
    ...(options.user && asRoot ? { uid, gid: gid ?? uid } : {}),
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

/** The repository as a fresh clone has it: git's files, copied; nothing installed or built. */
async function cleanCopy(into: string): Promise<string> {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const path of listed) {
    // A tracked file deleted in this checkout is not part of what would be built from it.
    const found = await stat(join(ROOT, path)).catch(() => undefined);
    if (!found?.isFile()) continue;
    await mkdir(dirname(join(into, path)), { recursive: true });
    await cp(join(ROOT, path), join(into, path));
  }
  return into;
}

/** A folder holding `node`: Node 24 from the npm registry, reachable by any user, as in the image. */
async function node24(into: string): Promise<string> {
  const binary = execFileSync("npx", ["-y", "node@24", "-p", "process.execPath"], {
    encoding: "utf8",
  }).trim();
  await mkdir(into, { recursive: true });
  await link(binary, join(into, "node")).catch(() => cp(binary, join(into, "node")));
  await chmod(into, 0o755);
  return into;
}

/** Follows the Dockerfile's stages into folders under `root`; see the comment at the top. */
async function buildImage(
  stages: Stage[],
  ignore: string[],
  context: string,
  root: string,
  nodeBin: string,
): Promise<BuiltImage> {
  // Stages build at once, as BuildKit builds them; `COPY --from` waits for its stage.
  const built = new Map<string, Promise<string>>();
  const buildStage = async (stage: Stage, fsRoot: string): Promise<BuiltImage> => {
    await mkdir(fsRoot, { recursive: true });
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
          const fromRoot = from ? await built.get(from) : context;
          if (!fromRoot) throw new Error(`${where}: no stage named ${from}`);
          if (!from) {
            expect(dockerignoreAllows(ignore, source), `${where}: .dockerignore keeps ${source} out`).toBe(
              true,
            );
          }
          const target = intoFolder ? join(inStage(dest), posix.basename(source)) : inStage(dest);
          await mkdir(dirname(target), { recursive: true });
          await cp(join(fromRoot, source), target, {
            recursive: true,
            verbatimSymlinks: true,
            // What the build context holds, file by file.
            filter: (path) => from !== undefined || dockerignoreAllows(ignore, relative(context, path)),
          });
        }
      } else if (keyword === "RUN") {
        for (const step of args.split("&&").map((part) => part.trim())) {
          const madeFolder = /^mkdir (?:-p )?(\/\S+)$/.exec(step);
          const owned = /^chown (\S+) (\/\S+)$/.exec(step);
          if (madeFolder) {
            await mkdir(inStage(madeFolder[1] as string), { recursive: true });
          } else if (owned) {
            owners.set(owned[2] as string, owned[1] as string);
          } else if (step === "npm cache clean --force") {
            // It only makes the layer smaller, and would empty this machine's npm cache.
          } else if (/^npm (ci|run)\b/.test(step)) {
            const done = run(["/bin/sh", "-c", step], {
              cwd: inStage("."),
              // A RUN step sees the image's environment only. npm's cache is this machine's, taken as it
              // is rather than asked again of the registry, as a builder's cache mount would be.
              env: {
                PATH: `${nodeBin}:${BASE_IMAGE_PATH}`,
                HOME: process.env.HOME,
                npm_config_prefer_offline: "true",
                ...env,
              },
            });
            const code = await done.exited;
            if (code !== 0) throw new Error(`${where}: ${step} failed with ${code}:\n${done.output()}`);
          } else {
            throw new Error(`${where}: this test does not know how to repeat RUN ${step}`);
          }
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
    return { workdir: inStage("."), env, cmd: [...entrypoint, ...cmd], healthcheck, user, volumes, owners };
  };
  const results = stages.map((stage, index) => {
    const result = buildStage(stage, join(root, `stage-${index}`));
    if (stage.name)
      built.set(
        stage.name,
        result.then(() => join(root, `stage-${index}`)),
      );
    return result;
  });
  const final = (await Promise.all(results)).at(-1);
  if (!final) throw new Error("the Dockerfile has no stage");
  return final;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every file and folder under `dir`, relative to it. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

let dockerfile: string;
let stages: Stage[];
let ignore: string[];
let image: BuiltImage;
let nodeBin: string;
let work: string;

beforeAll(async () => {
  dockerfile = await readFile(join(ROOT, "Dockerfile"), "utf8");
  stages = parseDockerfile(dockerfile);
  ignore = dockerignorePatterns(await readFile(join(ROOT, ".dockerignore"), "utf8"));
  work = await tempFolder("image");
  // The image's user reaches its files through here, as through a container's `/`.
  await chmod(work, 0o755);
  nodeBin = await node24(join(work, "node-bin"));
  const context = await cleanCopy(join(work, "context"));
  image = await buildImage(stages, ignore, context, join(work, "image"), nodeBin);
}, 600_000);

/** A container of the image: a fresh folder for each VOLUME, the image's ENV pointing into them. */
async function startContainer(extraEnv: NodeJS.ProcessEnv = {}) {
  const volumes = new Map<string, string>();
  for (const volume of image.volumes) {
    const folder = join(await tempFolder("volume"), "mount");
    await mkdir(folder, { mode: 0o755 });
    await chmod(dirname(folder), 0o755);
    const owner = image.owners.get(volume);
    if (owner && asRoot) {
      const [uid, gid] = owner.split(":").map(Number);
      await chown(folder, uid as number, gid ?? (uid as number));
    }
    volumes.set(volume, folder);
  }
  const inContainer = (value: string) => {
    for (const [volume, folder] of volumes) {
      if (value.includes(volume)) return value.replace(volume, folder);
    }
    return value;
  };
  const env: NodeJS.ProcessEnv = {
    PATH: `${nodeBin}:${BASE_IMAGE_PATH}`,
    ...Object.fromEntries(Object.entries(image.env).map(([name, value]) => [name, inContainer(value)])),
    PORT: String(await freePort()),
    ...extraEnv,
  };
  const exec = (command: string[]) => run(command, { cwd: image.workdir, env, user: image.user });
  const app = exec(image.cmd);
  const stop = async (): Promise<number | string | null> => {
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
    return code;
  };
  containers.push(stop);
  return { app, env, volumes, inContainer, exec, healthcheck: () => exec(image.healthcheck).exited, stop };
}

const containers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(containers.map((stop) => stop()));
});

async function waitUntilHealthy(app: Running, port: string): Promise<void> {
  let exit: number | null | undefined;
  app.exited.then((code) => {
    exit = code;
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    if (exit !== undefined) throw new Error(`the app exited with ${exit}:\n${app.output()}`);
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (answer?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app never answered /healthz:\n${app.output()}`);
}

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
    for (const path of ["node_modules/pino/package.json", "dist/main.js", "test/e2e/cli.test.ts"]) {
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
    // The same command as `npm start`, Node's options included.
    const start = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).scripts.start as string;
    expect(image.cmd).toEqual(start.split(" "));
    expect(image.cmd.at(-1)).toBe("dist/main.js");
    expect(image.healthcheck).toEqual(["node", "dist/healthcheck.js"]);
    for (const script of [image.cmd.at(-1), image.healthcheck[1]]) {
      expect((await stat(join(image.workdir, script as string))).isFile()).toBe(true);
    }
  });
});

describe("the image, built from a clean copy and run as its own user with only its own settings", () => {
  it("builds: the build stage's install keeps TypeScript's native compiler, and `npm run build` compiles", async () => {
    expect(await tree(join(image.workdir, "dist"))).toEqual(
      expect.arrayContaining(["main.js", "cli.js", "healthcheck.js"]),
    );
    // Node 24 has SQLite built in; the optional addon is left out of the image.
    expect(await tree(join(image.workdir, "node_modules"))).not.toContain("better-sqlite3");
  });

  it("starts the embedded default with its folder, key pair and ledger in /data, and serves a signed link", async () => {
    const before = await tree(image.workdir);
    const container = await startContainer();
    expect(await container.healthcheck()).toBe(1);
    await waitUntilHealthy(container.app, container.env.PORT as string);
    expect(await container.healthcheck()).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${container.env.PORT}/healthz`)).json()).toMatchObject({
      ok: true,
      slack: "not configured",
    });

    // The address the log prints answers with a page naming the command line as the image runs it.
    expect(await (await fetch(`http://127.0.0.1:${container.env.PORT}/`)).text()).toContain(
      "<pre>node dist/cli.js sign welcome.txt --expires 1h</pre>",
    );

    const data = container.volumes.get("/data") as string;
    expect(await tree(data)).toEqual(expect.arrayContaining(["files/welcome.txt", ".handout", "handout.db"]));
    // Nothing was written beside the app, which its user could not have done in the image anyway.
    expect(await tree(image.workdir)).toEqual(before);
    if (asRoot) {
      expect((await stat(join(image.workdir, "dist", "main.js"))).uid).toBe(0);
      expect((await stat(join(data, "files", "welcome.txt"))).uid).toBe(Number(image.user?.split(":")[0]));
    }

    // `docker exec handout node dist/cli.js sign …`: the same user, settings and folder.
    const sign = container.exec(["node", "dist/cli.js", "sign", "welcome.txt", "--expires", "1h"]);
    expect(await sign.exited, sign.output()).toBe(0);
    const url = /^http:\/\/localhost:\d+\/welcome\.txt\?\S+$/m.exec(sign.output())?.[0];
    expect(url, sign.output()).toBeDefined();
    const download = await fetch((url as string).replace("localhost", "127.0.0.1"));
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(await readFile(join(data, "files", "welcome.txt"), "utf8"));

    expect(await container.stop(), container.app.output()).toBe(0);
    expect(await container.healthcheck()).toBe(1);
  }, 60_000);

  describe("with S3, CloudFront and Slack configured, and the policy folder mounted as the README says", () => {
    let bucket: TestBucket;
    let slack: SlackDouble;

    beforeAll(async () => {
      bucket = await startTestBucket();
      await bucket.put("public/handbook/handbook.pdf");
      slack = await startSlackDouble();
    });

    afterAll(async () => {
      await slack?.stop();
      await bucket?.stop();
    });

    it("starts, passes the HEALTHCHECK, reads its policy again on SIGHUP, and exits 0 on SIGTERM", async () => {
      const pair = makeKeyPair();
      const secrets = await tempFolder("image-secrets");
      await chmod(secrets, 0o755);
      await writeFile(join(secrets, "private_key.pem"), pair.privatePem, { mode: 0o644 });
      // `-v "$PWD/policy:/app/policy:ro" -e HANDOUT_POLICY_FILE=/app/policy/access.yml`.
      const policyDir = await tempFolder("image-policy");
      await chmod(policyDir, 0o755);
      const policyFile = join(policyDir, "access.yml");
      await writeFile(
        policyFile,
        "contact: Ask #it-help.\nrules:\n  - who: { everyone: true }\n    prefixes: [public/handbook/]\n",
      );
      const container = await startContainer(
        handoutEnv(
          {
            bucket,
            slack,
            signingSecret: "docker-test-signing-secret",
            key: { keyPairId: pair.keyPairId, file: join(secrets, "private_key.pem") },
            policyFile,
          },
          { LOG_LEVEL: "warn" },
        ),
      );
      await waitUntilHealthy(container.app, container.env.PORT as string);
      expect(await container.healthcheck()).toBe(0);
      // The ledger opened where the image's ENV says, in its volume; no local folder was made.
      const ledger = container.inContainer(image.env.HANDOUT_LEDGER ?? "").replace(/^sqlite:/, "");
      expect((await stat(ledger)).isFile()).toBe(true);
      expect(await tree(container.volumes.get("/data") as string)).not.toContain("files");
      // The page at `/` is the embedded default's; a public server for S3 has none.
      expect((await fetch(`http://127.0.0.1:${container.env.PORT}/`)).status).toBe(404);

      // `docker kill -s HUP` reads the access policy again: a broken file is refused, and the app
      // keeps serving with the policy it has.
      await writeFile(policyFile, "rules: [oops\n");
      container.app.child.kill("SIGHUP");
      for (let i = 0; i < 100 && !container.app.output().includes("the policy in force stays"); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(container.app.output()).toContain("the policy file was not taken; the policy in force stays");
      expect(await container.healthcheck()).toBe(0);

      expect(await container.stop(), container.app.output()).toBe(0);
      expect(await container.healthcheck()).toBe(1);
    }, 30_000);
  });
});
