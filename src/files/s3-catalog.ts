import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { HandoutError } from "../domain/errors.js";
import type { FileCatalog, FileInfo } from "../domain/ports.js";

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export function s3FileCatalog(client: S3Client, bucket: string): FileCatalog {
  return {
    async stat(key): Promise<FileInfo | undefined> {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) };
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return undefined;
        if (status === 403) {
          throw new HandoutError(
            "STORAGE_UNAVAILABLE",
            `Access to s3://${bucket} was denied: allow s3:GetObject on it, and s3:ListBucket so that a missing file reads as missing.`,
            { cause: error },
          );
        }
        throw new HandoutError(
          "STORAGE_UNAVAILABLE",
          `Could not reach the bucket ${bucket} (${(error as Error).name}): check the network, AWS_REGION and credentials.`,
          { cause: error },
        );
      }
    },
  };
}
