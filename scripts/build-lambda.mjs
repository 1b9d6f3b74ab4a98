// Bundles the AWS Lambda handler (src/lambda.ts) into ES modules under dist/lambda/: index.mjs, whose
// handler is `index.handler`, and chunks/ for what it imports only when needed (the SDK clients of
// DynamoDB, Secrets Manager and the KeyValueStore), so that a cold start loads and compiles only what
// the first request needs. The AWS SDK is bundled rather than taken from the Lambda runtime, so that
// the version that runs is the one the lock file pins.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

const outdir = new URL("../dist/lambda/", import.meta.url);

// Bolt's index loads every receiver's dependencies, but on Lambda only AwsLambdaReceiver is ever
// constructed: Socket Mode's client and Express (about 1 MB, a third of the bundle's load time on
// every cold start) are only used by the other receivers' constructors. They are replaced by empty
// modules; test/artefacts/lambda-bundle.test.ts drives the bundle through a real slash command.
// raw-body (with iconv-lite's tables, about 500 KB) reads a Node request's body for HTTPReceiver;
// AwsLambdaReceiver is handed the body in the event. @slack/oauth (with jsonwebtoken and semver, whose
// top level parses version ranges) serves OAuth installs, which Handout, installed with one bot token,
// never runs; Bolt's index re-exports it and the other receivers use it. ws is the WebSocket of
// Handout's own Socket Mode receiver, which a function never opens.
const UNUSED_ON_LAMBDA = /^(@slack\/socket-mode|@slack\/oauth|express|raw-body|ws)$/;
const leaveOutUnused = {
  name: "leave-out-unused-receivers",
  setup(builder) {
    builder.onResolve({ filter: UNUSED_ON_LAMBDA }, (args) => ({ path: args.path, namespace: "unused" }));
    builder.onLoad({ filter: /.*/, namespace: "unused" }, () => ({ contents: "module.exports = {};" }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { index: fileURLToPath(new URL("../src/lambda.ts", import.meta.url)) },
  outdir: fileURLToPath(outdir),
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  ...bundleOptions,
  splitting: true,
  target: "node24",
  minify: true,
  // The native addon of the SQLite ledger stays out (see bundleOptions); on Lambda the ledger is DynamoDB.
  plugins: [leaveOutUnused],
});

const bytes =
  Object.entries(result.metafile.outputs).find(([path]) => path.endsWith("/index.mjs"))?.[1].bytes ?? 0;
process.stdout.write(`dist/lambda/index.mjs: ${(bytes / 1024).toFixed(0)} KiB\n`);
