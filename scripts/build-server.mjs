// Bundles the server (src/main.ts) into dist/main.js, over the file tsc wrote there: `npm start`, the
// Docker image and the tests all run that file. Node 20 takes about 1.5 s to resolve and load the
// hundreds of modules of Bolt, the AWS SDK and the rest one by one (measured on a 2-core machine);
// one file loads in a fraction of that, and a restart, a new replica or a new container answers
// sooner. The other entries (the command line, the health check) stay as tsc wrote them.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

await build({
  ...bundleOptions,
  entryPoints: [fileURLToPath(new URL("../src/main.ts", import.meta.url))],
  outfile: fileURLToPath(new URL("../dist/main.js", import.meta.url)),
  target: "node20",
  allowOverwrite: true,
});
