import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3PageSource } from "../../src/files/s3-pages.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";

describe("listing pages from an S3-compatible server over HTTP", () => {
  let bucket: TestBucket;
  beforeAll(async () => {
    bucket = await startTestBucket();
  });
  afterAll(() => bucket.stop());

  it("reads keys that XML must escape, with their sizes and times, page by page", async () => {
    const keys = ["a & b/<report>.pdf", "quotes/\"q\" 's'.txt", "plus+sign/100% sure.txt", "ünï/日本 😀.md"];
    for (const key of keys) await bucket.put(key, "12345");
    const source = s3PageSource(bucket.client, bucket.name);
    const seen: { key: string; size: number; lastModified: number }[] = [];
    let token: string | undefined;
    do {
      const page = await (token
        ? source.listPage({ prefix: "", continuationToken: token })
        : source.listPage({ prefix: "" }));
      seen.push(...page.objects);
      token = page.continuationToken;
    } while (token);
    expect(seen.map((o) => o.key).sort()).toEqual([...keys].sort());
    for (const object of seen) {
      expect(object.size).toBe(5);
      expect(object.lastModified).toBeGreaterThan(0);
    }
  });

  it("reads the folders of a delimited listing", async () => {
    const page = await s3PageSource(bucket.client, bucket.name).listPage({ prefix: "", delimited: true });
    expect(page.folders).toEqual(expect.arrayContaining(["a & b/", "plus+sign/", "quotes/"]));
  });
});
