import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { CloudFrontKeyValueStoreClient } from "@aws-sdk/client-cloudfront-keyvaluestore";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { WebClient, type WebClientOptions } from "@slack/web-api";
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

export const createDynamoDbClient = (): DynamoDBClient => new DynamoDBClient({});

// CloudFront is a global service; its API lives in us-east-1 whatever AWS_REGION says.
export const createCloudFrontClient = (): CloudFrontClient => new CloudFrontClient({ region: "us-east-1" });

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
