import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3FileCatalog } from "../../src/files/s3-catalog.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { tempFolder } from "../support/temp.js";

describe("the S3 catalog", () => {
  let bucket: TestBucket;
  beforeAll(async () => {
    bucket = await startTestBucket();
    await bucket.put("reports/q1 2026 (final).pdf", "twelve bytes");
  });
  afterAll(async () => {
    await bucket.stop();
  });

  it("states an object over HTTP, and says a missing one is missing", async () => {
    const catalog = s3FileCatalog(bucket.client, bucket.name);
    const file = await catalog.stat("reports/q1 2026 (final).pdf");
    expect(file).toMatchObject({ key: "reports/q1 2026 (final).pdf", size: 12 });
    // s3rver dates an object by its file's modification time, which the kernel sets and faketime does
    // not move: the reference is a file written now, not the test's clock.
    const reference = join(await tempFolder("s3-catalog"), "now");
    await writeFile(reference, "");
    const fileNow = (await stat(reference)).mtimeMs;
    expect(Math.abs((file?.lastModified.getTime() ?? 0) - fileNow)).toBeLessThan(60_000);
    expect(await catalog.stat("reports/q2.pdf")).toBeUndefined();
  });
});
