import { HeadObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { s3FileCatalog } from "../../src/files/s3-catalog.js";

describe("the S3 catalog", () => {
  it("turns access denied and an outage into messages that say what to do", async () => {
    const client = new S3Client({ region: "eu-west-1" });
    const s3 = mockClient(client);
    const failure = (status: number, name: string) =>
      new S3ServiceException({
        name,
        $fault: status < 500 ? "client" : "server",
        $metadata: { httpStatusCode: status },
        message: name,
      });
    const catalog = s3FileCatalog(client, "team-files");
    s3.on(HeadObjectCommand).rejects(failure(403, "Forbidden"));
    await expect(catalog.stat("a.pdf")).rejects.toMatchObject({
      code: "STORAGE_UNAVAILABLE",
      message: expect.stringContaining("Access to s3://team-files was denied: allow s3:GetObject"),
    });
    s3.on(HeadObjectCommand).rejects(failure(503, "ServiceUnavailable"));
    await expect(catalog.stat("a.pdf")).rejects.toMatchObject({
      code: "STORAGE_UNAVAILABLE",
      message: expect.stringContaining("Could not reach the bucket team-files (ServiceUnavailable)"),
    });
  });
});
