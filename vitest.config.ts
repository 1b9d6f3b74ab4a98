import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // s3rver builds pagination tokens with DES, which OpenSSL 3 only offers through its legacy provider.
    execArgv: ["--openssl-legacy-provider"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
