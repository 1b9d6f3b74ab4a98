import { CloudFrontKeyValueStoreClient } from "@aws-sdk/client-cloudfront-keyvaluestore";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { BucketSettings } from "../config/config.js";

/**
 * One client per service, built in the composition root. Region, credentials and endpoints come from
 * the standard AWS variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3, …).
 */
export const createS3Client = (bucket: BucketSettings): S3Client =>
  new S3Client({
    forcePathStyle: bucket.forcePathStyle,
    // S3-compatible stores differ in their support for the SDK's default flexible checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });

export const createSecretsManagerClient = (): SecretsManagerClient => new SecretsManagerClient({});

/** The KeyValueStore API is signed with SigV4A: revocation-store.ts imports its implementation. */
export const createKeyValueStoreClient = (): CloudFrontKeyValueStoreClient =>
  new CloudFrontKeyValueStoreClient({});
