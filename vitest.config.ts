import { defineConfig } from "vitest/config";

/** What every tier runs with. */
const shared = {
  // Each test file removes the temporary folders it made; the run checks nothing is left behind.
  setupFiles: ["test/support/setup.ts"],
  // s3rver builds pagination tokens with DES, which OpenSSL 3 only offers through its legacy provider.
  execArgv: ["--openssl-legacy-provider"],
  testTimeout: 20_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    // Once for the whole run, whichever tiers it takes: one temporary directory, one leftover check.
    globalSetup: ["test/support/global-setup.ts"],
    projects: ["unit", "adapters", "e2e", "artefacts"].map((tier) => ({
      test: {
        ...shared,
        name: tier,
        include: [`test/${tier}/**/*.test.ts`],
        // Pure tests share their workers' loaded modules: importing the SDKs once per worker, not once a
        // file, is most of the fast tier's time. A unit test that fakes a global (the clock) puts it back.
        isolate: tier !== "unit",
      },
    })),
  },
});
