import { type CloudFrontClient, DescribeFunctionCommand } from "@aws-sdk/client-cloudfront";
import {
  type CloudFrontKeyValueStoreClient,
  DescribeKeyValueStoreCommand,
} from "@aws-sdk/client-cloudfront-keyvaluestore";
import { HandoutError } from "../domain/errors.js";
import { keyValueStoreRevocationList } from "../links/revocation-store.js";
import { awsProblem, type Checked, type CheckResult, failed, passed, splitMessage } from "./check.js";
import type { FoundDistribution } from "./cloudfront-checks.js";

const STORE = "Revocation store";
const FUNCTION = "Revocation function";
const WRITE = "Revocation writes";

const DEPLOY =
  "Deploy with `infra/deploy.sh … EnableRevocation=true`, or associate cloudfront/revocation.js, with the store, as the viewer-request function of every behaviour.";

/** HANDOUT_REVOCATION_KVS_ARN names a KeyValueStore that exists and is ready. */
export async function checkRevocationStore(
  client: CloudFrontKeyValueStoreClient,
  kvsArn: string,
): Promise<Checked<string>> {
  try {
    const answer = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn }));
    const status = answer.Status ?? "READY";
    if (status !== "READY") {
      return failed(
        STORE,
        `${kvsArn} is not ready (status ${status}${answer.FailureReason ? `: ${answer.FailureReason}` : ""})`,
        "Wait for the stack to finish, or create the store again (CloudFront → Functions → KeyValueStores).",
      );
    }
    return passed(STORE, `${kvsArn} holds ${answer.ItemCount ?? 0} revoked links`, kvsArn);
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") {
      return failed(
        STORE,
        `there is no KeyValueStore ${kvsArn}`,
        "Set HANDOUT_REVOCATION_KVS_ARN to the stack's output HandoutRevocationKvsArn (CloudFront → Functions → KeyValueStores → ARN).",
      );
    }
    const { detail, fix } = awsProblem(error, "cloudfront-keyvaluestore:DescribeKeyValueStore");
    return failed(STORE, `could not read ${kvsArn}: ${detail}`, fix);
  }
}

/** The function name in a CloudFront Function's ARN (`arn:aws:cloudfront::123456789012:function/NAME`). */
const functionName = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);

/**
 * Every behaviour of the distribution runs, on viewer request, a published function that reads the
 * store: without one, a revoked link still opens through that behaviour.
 */
export async function checkRevocationFunction(
  cloudFront: CloudFrontClient,
  distribution: FoundDistribution,
  kvsArn: string,
): Promise<CheckResult> {
  const { config } = distribution;
  const behaviours = [
    { path: "the default behaviour", associations: config.DefaultCacheBehavior?.FunctionAssociations },
    ...(config.CacheBehaviors?.Items ?? []).map((behaviour) => ({
      path: `the behaviour ${behaviour.PathPattern}`,
      associations: behaviour.FunctionAssociations,
    })),
  ];
  const stores = new Map<string, readonly string[]>();
  try {
    for (const { associations } of behaviours) {
      for (const { EventType, FunctionARN } of associations?.Items ?? []) {
        if (EventType !== "viewer-request" || !FunctionARN || stores.has(FunctionARN)) continue;
        const answer = await cloudFront.send(
          new DescribeFunctionCommand({ Name: functionName(FunctionARN), Stage: "LIVE" }),
        );
        const items = answer.FunctionSummary?.FunctionConfig?.KeyValueStoreAssociations?.Items ?? [];
        stores.set(
          FunctionARN,
          items.flatMap((item) => (item.KeyValueStoreARN ? [item.KeyValueStoreARN] : [])),
        );
      }
    }
  } catch (error) {
    const { detail, fix } = awsProblem(error, "cloudfront:DescribeFunction");
    return failed(FUNCTION, `could not read the distribution's functions: ${detail}`, fix);
  }
  const problems: string[] = [];
  const readers = new Set<string>();
  for (const { path, associations } of behaviours) {
    const viewerRequest = (associations?.Items ?? []).find((item) => item.EventType === "viewer-request");
    const arn = viewerRequest?.FunctionARN;
    if (!arn) {
      problems.push(`${path} runs no viewer-request function`);
    } else if (!stores.get(arn)?.includes(kvsArn)) {
      const read = stores.get(arn) ?? [];
      problems.push(
        `${path} runs ${functionName(arn)}, which reads ${read.length ? read.join(", ") : "no KeyValueStore"}`,
      );
    } else {
      readers.add(functionName(arn));
    }
  }
  if (problems.length > 0) {
    return failed(
      FUNCTION,
      `revoked links still open through ${distribution.id}: ${problems.join("; ")}`,
      DEPLOY,
    );
  }
  return passed(
    FUNCTION,
    `${[...readers].join(", ")} reads the store on every request to ${distribution.id}`,
  );
}

/** Handout can add an entry to the store and take it out again, as revoking and pruning do. */
export async function checkRevocationWrites(
  client: CloudFrontKeyValueStoreClient,
  kvsArn: string,
  now: Date,
): Promise<CheckResult> {
  const list = keyValueStoreRevocationList({ client, kvsArn, attempts: 2 });
  // No link carries this id; its value is a time already past, so that a prune removes it if we cannot.
  const probe = "handout-doctor-check";
  try {
    await list.add(probe, now);
    await list.remove(probe);
  } catch (error) {
    if (!(error instanceof HandoutError)) throw error;
    const { detail, fix } = splitMessage(error.message, kvsArn);
    return failed(WRITE, detail, fix);
  }
  return passed(WRITE, "Handout can add an entry to the store and remove it");
}
