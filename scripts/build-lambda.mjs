// Bundles the AWS Lambda handler (src/lambda.ts) into one ES module, dist/lambda/index.mjs, whose
// handler is `index.handler`. The AWS SDK is bundled rather than taken from the Lambda runtime, so that
// the version that runs is the one the lock file pins.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const outdir = new URL("../dist/lambda/", import.meta.url);

// Bolt's index loads every receiver's dependencies, but on Lambda only AwsLambdaReceiver is ever
// constructed: Socket Mode's client and Express (about 1 MB, a third of the bundle's load time on
// every cold start) are only used by the other receivers' constructors. They are replaced by empty
// modules; test/artefacts/lambda-bundle.test.ts drives the bundle through a real slash command.
const UNUSED_ON_LAMBDA = /^(@slack\/socket-mode|express)$/;
const leaveOutUnused = {
  name: "leave-out-unused-receivers",
  setup(builder) {
    builder.onResolve({ filter: UNUSED_ON_LAMBDA }, (args) => ({ path: args.path, namespace: "unused" }));
    builder.onLoad({ filter: /.*/, namespace: "unused" }, () => ({ contents: "module.exports = {};" }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [fileURLToPath(new URL("../src/lambda.ts", import.meta.url))],
  outfile: fileURLToPath(new URL("index.mjs", outdir)),
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  minify: true,
  sourcemap: true,
  metafile: true,
  // Bundled CommonJS packages call require() and read __dirname, which an ES module does not have.
  banner: {
    js: [
      'import { createRequire as __handoutCreateRequire } from "node:module";',
      'import { fileURLToPath as __handoutFileURLToPath } from "node:url";',
      "const require = __handoutCreateRequire(import.meta.url);",
      "const __filename = __handoutFileURLToPath(import.meta.url);",
      'const __dirname = __handoutFileURLToPath(new URL(".", import.meta.url));',
    ].join("\n"),
  },
  // The native addon of the SQLite ledger; on Lambda the ledger is DynamoDB.
  external: ["better-sqlite3"],
  plugins: [leaveOutUnused],
  logLevel: "warning",
});

const bytes = Object.values(result.metafile.outputs).find((output) => output.entryPoint)?.bytes ?? 0;
process.stdout.write(`dist/lambda/index.mjs: ${(bytes / 1024).toFixed(0)} KiB\n`);
