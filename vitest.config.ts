import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each test file removes the temporary folders it made; the run checks nothing is left behind.
    setupFiles: ["test/support/setup.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // s3rver builds pagination tokens with DES, which OpenSSL 3 only offers through its legacy provider.
    execArgv: ["--openssl-legacy-provider"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
