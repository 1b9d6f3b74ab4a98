// What the server's and the Lambda's bundles share: one ES module file for Node, CommonJS packages
// inside it given the require() and __dirname they expect, and SQLite's native addon left to
// node_modules (an addon cannot be bundled).
export const bundleOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  sourcemap: true,
  metafile: true,
  banner: {
    js: [
      'import { createRequire as __handoutCreateRequire } from "node:module";',
      'import { fileURLToPath as __handoutFileURLToPath } from "node:url";',
      "const require = __handoutCreateRequire(import.meta.url);",
      "const __filename = __handoutFileURLToPath(import.meta.url);",
      'const __dirname = __handoutFileURLToPath(new URL(".", import.meta.url));',
    ].join("\n"),
  },
  external: ["better-sqlite3"],
  logLevel: "warning",
};
