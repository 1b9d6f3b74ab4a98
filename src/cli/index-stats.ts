import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openFileStore } from "../app/storage.js";
import { loadConfig } from "../config/config.js";
import { loadAccessPolicy } from "../config/policy-file.js";
import { HandoutError } from "../domain/errors.js";
import { coveringPrefixes } from "../domain/search.js";
import { FileIndex } from "../search/file-index.js";
import type { ListProgress } from "../search/lister.js";
import { type CliIo, UsageError } from "./io.js";

export const INDEX_USAGE = "index stats [--concurrency N] [--json]";

const count = (n: number): string => n.toLocaleString("en-US");
const megabytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Progress on stderr: one line rewritten in place on a terminal, a line every few seconds elsewhere. */
function progressDisplay(io: CliIo, store: string, startedAt: number) {
  // The injected io says nothing about terminals; stderr is where the line goes in the real CLI.
  const live = process.stderr.isTTY === true;
  const every = live ? 200 : 5_000;
  let shownAt = 0;
  let shown = false;
  return {
    update(progress: ListProgress) {
      const now = Date.now();
      if (now - shownAt < every) return;
      shownAt = now;
      const text = `Listing ${store}: ${count(progress.objects)} files, ${count(progress.requests)} requests, ${seconds(now - startedAt)}`;
      io.err(live ? `\r${text}\x1b[K` : `${text}\n`);
      shown = true;
    },
    done() {
      if (live && shown) io.err("\r\x1b[K");
    },
  };
}

/**
 * `handout index stats`: builds the index once, as the app would (every prefix the policy grants, all
 * rules together), and reports its size and cost.
 */
export async function indexCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { concurrency: { type: "string" }, json: { type: "boolean", default: false } },
  });
  if (positionals.length !== 1 || positionals[0] !== "stats") {
    throw new UsageError("index has one subcommand: stats.");
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (
    concurrency !== undefined &&
    !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256)
  ) {
    throw new UsageError("--concurrency must be a whole number from 1 to 256.");
  }

  const config = loadConfig(io.env, { storage: "bucket" });
  // As the server does: the embedded default without a policy file indexes for the trial policy.
  const { policy } = await loadAccessPolicy(config, { file: resolve(io.cwd, config.policyFile) });
  const roots = coveringPrefixes(policy.rules.flatMap((rule) => rule.prefixes));
  if (roots.length === 0) {
    throw new HandoutError(
      "POLICY_INVALID",
      `The access policy ${config.policyFile} grants no files, so there is nothing to index: add a rule with prefixes.`,
    );
  }

  // The bucket, or in the embedded default (no bucket, no CloudFront) the local folder it stands for.
  const settings =
    config.storage.mode === "local"
      ? { ...config.storage, dir: resolve(io.cwd, config.storage.dir) }
      : config.storage;
  const files = openFileStore(settings);
  const store = {
    name: settings.mode === "local" ? `the local folder ${settings.dir}` : `s3://${settings.bucket.name}`,
    pages: files.pages,
    close: () => files.close(),
  };
  const startedAt = Date.now();
  const progress = progressDisplay(io, store.name, startedAt);
  const index = new FileIndex({
    source: store.pages,
    roots,
    ...(concurrency !== undefined ? { concurrency } : {}),
    onProgress: (p) => progress.update(p),
  });
  let report: Awaited<ReturnType<FileIndex["refresh"]>>;
  try {
    report = await index.refresh();
  } finally {
    progress.done();
    store.close();
  }
  const status = index.status();
  const memory = process.memoryUsage();
  const skipped = report.listed - report.files;

  if (values.json) {
    io.out(
      `${JSON.stringify({
        store: store.name,
        prefixes: roots,
        files: report.files,
        skipped,
        requests: report.requests,
        buildMs: report.durationMs,
        indexBytes: status.bytes,
        heapUsedBytes: memory.heapUsed,
        arrayBufferBytes: memory.arrayBuffers,
        rssBytes: memory.rss,
      })}\n`,
    );
    return 0;
  }
  const where = roots.includes("") ? "the whole bucket" : roots.join(", ");
  io.out(
    [
      `Indexed ${store.name} (${where})`,
      `  files:       ${count(report.files)}${skipped > 0 ? ` (and ${count(skipped)} left out: keys a link cannot carry, such as ones with a tab or a '//')` : ""}`,
      `  build time:  ${seconds(report.durationMs)} (${count(report.requests)} list requests)`,
      `  memory:      about ${megabytes(status.bytes)} held by the index; process heap ${megabytes(memory.heapUsed + memory.arrayBuffers)}, RSS ${megabytes(memory.rss)}`,
      "",
    ].join("\n"),
  );
  return 0;
}
