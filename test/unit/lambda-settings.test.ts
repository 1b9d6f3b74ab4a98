import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("the AWS Lambda entry's settings", { timeout: 60_000 }, () => {
  it("refuses a LOG_LEVEL it does not know in the settings' own words, as main.ts does", async () => {
    vi.stubEnv("LOG_LEVEL", "loud");
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    // Importing must not fail: the level is read with the rest of the settings, on the first event.
    const { handler } = await import("../../src/lambda.js");
    const problem = "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent.";
    await expect(handler({} as never, {})).rejects.toThrow(problem);
    expect(written.join("")).toContain(problem);
  });
});
