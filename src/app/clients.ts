import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { CloudFrontKeyValueStoreClient } from "@aws-sdk/client-cloudfront-keyvaluestore";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { WebClient, type WebClientOptions } from "@slack/web-api";
import type { BucketSettings } from "../config/config.js";

/**
 * One client per service, built in the composition root. Region, credentials and endpoints come from
 * the standard AWS variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3, …).
 *
 * S3 and Slack serve every request. The other clients are loaded when first built: a cold Lambda
 * container that never needs them (a key file, a SQLite ledger, no revocation store) does not pay for
 * loading their SDK packages before its first answer.
 */
export const createS3Client = (bucket: BucketSettings): S3Client =>
  new S3Client({
    forcePathStyle: bucket.forcePathStyle,
    // S3-compatible stores differ in their support for the SDK's default flexible checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });

export const createSecretsManagerClient = async (): Promise<SecretsManagerClient> =>
  new (await import("@aws-sdk/client-secrets-manager")).SecretsManagerClient({});

/** The KeyValueStore API is signed with SigV4A: revocation-store.ts imports its implementation. */
export const createKeyValueStoreClient = async (): Promise<CloudFrontKeyValueStoreClient> =>
  new (await import("@aws-sdk/client-cloudfront-keyvaluestore")).CloudFrontKeyValueStoreClient({});

export const createDynamoDbClient = async (): Promise<DynamoDBClient> =>
  new (await import("@aws-sdk/client-dynamodb")).DynamoDBClient({});

// CloudFront is a global service; its API lives in us-east-1 whatever AWS_REGION says.
export const createCloudFrontClient = async (): Promise<CloudFrontClient> =>
  new (await import("@aws-sdk/client-cloudfront")).CloudFrontClient({ region: "us-east-1" });

/**
 * Web API client options; `apiUrl` (SLACK_API_URL) points them at another Slack (GovSlack, a test
 * double) when set. The one place Slack's API base is chosen, for Handout's clients and Bolt's.
 */
export const slackClientOptions = (
  apiUrl: string | undefined,
  options: Omit<WebClientOptions, "slackApiUrl">,
): WebClientOptions => ({ ...(apiUrl ? { slackApiUrl: apiUrl } : {}), ...options });

/** A Slack Web API client, aimed as `slackClientOptions` says. */
export const createSlackClient = (
  token: string,
  apiUrl: string | undefined,
  options: Omit<WebClientOptions, "slackApiUrl">,
): WebClient => new WebClient(token, slackClientOptions(apiUrl, options));

/** Loaded only where a queue is read: a Lambda cold start, which never reads one, does not pay for it. */
export async function createSqsClient(): Promise<import("@aws-sdk/client-sqs").SQSClient> {
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  return new SQSClient({});
}
