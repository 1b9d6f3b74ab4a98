import {
  type CloudFrontClient,
  type DistributionConfig,
  type DistributionSummary,
  GetDistributionConfigCommand,
  GetKeyGroupCommand,
  ListDistributionsCommand,
  type Origin,
} from "@aws-sdk/client-cloudfront";
import { awsProblem, type Checked, type CheckResult, failed, passed } from "./check.js";

export interface FoundDistribution {
  readonly id: string;
  /** `Deployed`, or `InProgress` while a change is still spreading to the edge. */
  readonly status: string;
  readonly config: DistributionConfig;
}

const DISTRIBUTION = "Distribution";
const KEY_GROUP = "Trusted key group";
const ORIGIN = "Origin";

const serves = (summary: DistributionSummary, domain: string): boolean =>
  [summary.DomainName, ...(summary.Aliases?.Items ?? [])].some((name) => name?.toLowerCase() === domain);

/** A domain of S3 itself: a link signed for it never passes through CloudFront's signature check. */
export const isS3Domain = (domain: string): boolean =>
  /\.s3[.-]([a-z0-9-]+\.)*amazonaws\.com(\.cn)?$/i.test(domain);

/** The distribution whose domain name, or one of whose alternate domain names, is CLOUDFRONT_DOMAIN. */
export async function checkDistribution(
  cloudFront: CloudFrontClient,
  configuredDomain: string,
): Promise<Checked<FoundDistribution>> {
  const domain = configuredDomain.toLowerCase();
  if (isS3Domain(domain)) {
    return failed(
      DISTRIBUTION,
      `CLOUDFRONT_DOMAIN is an S3 domain (${configuredDomain}), not the distribution's`,
      "Set CLOUDFRONT_DOMAIN to the distribution's domain name, such as d111111abcdef8.cloudfront.net: links must be signed for CloudFront, not for S3.",
    );
  }
  let match: DistributionSummary | undefined;
  let config: DistributionConfig | undefined;
  try {
    let marker: string | undefined;
    do {
      const page = await cloudFront.send(new ListDistributionsCommand({ Marker: marker }));
      match = page.DistributionList?.Items?.find((summary) => serves(summary, domain));
      marker = page.DistributionList?.IsTruncated ? page.DistributionList.NextMarker : undefined;
    } while (!match && marker);
    if (match?.Id) {
      config = (await cloudFront.send(new GetDistributionConfigCommand({ Id: match.Id }))).DistributionConfig;
    }
  } catch (error) {
    const { detail, fix } = awsProblem(
      error,
      "cloudfront:ListDistributions and cloudfront:GetDistributionConfig",
    );
    return failed(DISTRIBUTION, `could not look for the distribution: ${detail}`, fix);
  }
  if (!match?.Id || !config) {
    return failed(
      DISTRIBUTION,
      `no distribution in this AWS account serves ${configuredDomain}`,
      "Set CLOUDFRONT_DOMAIN to the distribution's domain name (CloudFront → Distributions → Domain name) or one of its alternate domain names, and run the doctor with credentials of the account that owns it.",
    );
  }
  if (config.Enabled === false) {
    return failed(
      DISTRIBUTION,
      `${match.Id} serves ${configuredDomain} but is disabled`,
      "Enable it (CloudFront → Distributions → Enable), then wait until its status is Deployed.",
    );
  }
  const status = match.Status ?? "unknown";
  const deploying = status === "Deployed" ? "" : ` (status ${status}: a change is still deploying)`;
  return passed(DISTRIBUTION, `${match.Id} serves ${configuredDomain}${deploying}`, {
    id: match.Id,
    status,
    config,
  });
}

/** The default behaviour restricts viewers to a key group, and one of its trusted groups holds the key. */
export async function checkKeyGroup(
  cloudFront: CloudFrontClient,
  distribution: FoundDistribution,
  keyPairId: string,
): Promise<CheckResult> {
  const behaviour = distribution.config.DefaultCacheBehavior;
  const groupIds = behaviour?.TrustedKeyGroups?.Enabled ? (behaviour.TrustedKeyGroups.Items ?? []) : [];
  const restrict = `Edit the distribution's default behaviour: Restrict viewer access → Yes → Trusted key groups → a key group holding ${keyPairId}.`;
  if (groupIds.length === 0) {
    return failed(
      KEY_GROUP,
      behaviour?.TrustedSigners?.Enabled
        ? `${distribution.id} trusts AWS account signers (the legacy way), not a key group`
        : `${distribution.id} does not restrict viewer access: files are served without a signed link`,
      restrict,
    );
  }
  const groups: { id: string; name: string; keys: readonly string[] }[] = [];
  try {
    for (const id of groupIds) {
      const answer = await cloudFront.send(new GetKeyGroupCommand({ Id: id }));
      const config = answer.KeyGroup?.KeyGroupConfig;
      groups.push({ id, name: config?.Name ?? id, keys: config?.Items ?? [] });
    }
  } catch (error) {
    const { detail, fix } = awsProblem(error, "cloudfront:GetKeyGroup");
    return failed(KEY_GROUP, `could not read the trusted key groups: ${detail}`, fix);
  }
  const holder = groups.find((group) => group.keys.includes(keyPairId));
  if (holder) return passed(KEY_GROUP, `key group ${holder.name} holds ${keyPairId}`);
  const names = groups.map((group) => `${group.name} (${group.id})`).join(", ");
  const others = [...new Set(groups.flatMap((group) => group.keys))];
  return failed(
    KEY_GROUP,
    `the trusted key group${groups.length === 1 ? "" : "s"} ${names} ${groups.length === 1 ? "does" : "do"} not hold ${keyPairId}`,
    `Add public key ${keyPairId} to ${groups[0]?.name ?? "the key group"} (CloudFront → Key groups → Edit)${others.length ? `, or sign with a key the group holds (${others.join(", ")})` : ""}.`,
  );
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The REST endpoints of a bucket, global or regional (`.s3.` or the older `.s3-region.`). */
const isBucketEndpoint = (domain: string, bucket: string): boolean =>
  new RegExp(`^${escapeRegExp(bucket)}\\.s3([.-][a-z0-9-]+)?\\.amazonaws\\.com(\\.cn)?$`).test(domain) &&
  !/\.s3-website[.-]/.test(domain);

/** The default behaviour's origin is the bucket's REST endpoint, read through origin access control. */
export function checkOrigin(distribution: FoundDistribution, bucket: string): CheckResult {
  const origins: readonly Origin[] = distribution.config.Origins?.Items ?? [];
  const targetId = distribution.config.DefaultCacheBehavior?.TargetOriginId;
  const target = origins.find((origin) => origin.Id === targetId);
  // A target that is an origin group is not among the origins: judge every origin then.
  const candidates = target ? [target] : origins;
  const bucketOrigin = candidates.find((origin) => isBucketEndpoint(origin.DomainName ?? "", bucket));
  const endpoint = `${bucket}.s3.<region>.amazonaws.com`;
  if (!bucketOrigin) {
    const seen = candidates.map((origin) => origin.DomainName).join(", ") || "no origin";
    const website = candidates.some((origin) => /\.s3-website[.-]/.test(origin.DomainName ?? ""));
    return failed(
      ORIGIN,
      `the default behaviour's origin is ${seen}, not the bucket ${bucket}${website ? " (a website endpoint cannot use origin access control)" : ""}`,
      `Point the origin at the bucket's REST endpoint ${endpoint} (CloudFront → Origins → Edit), or set HANDOUT_BUCKET to the bucket the distribution serves.`,
    );
  }
  const oac = `Create an origin access control for S3 (CloudFront → Origin access → Create), choose it on origin ${bucketOrigin.Id}, and copy the bucket policy CloudFront offers into the bucket's policy.`;
  if (bucketOrigin.S3OriginConfig?.OriginAccessIdentity) {
    return failed(
      ORIGIN,
      `origin ${bucketOrigin.Id} reads the bucket with a legacy origin access identity`,
      `Switch it to origin access control: ${oac}`,
    );
  }
  if (!bucketOrigin.OriginAccessControlId) {
    return failed(
      ORIGIN,
      `origin ${bucketOrigin.Id} has no origin access control, so CloudFront cannot read the private bucket`,
      oac,
    );
  }
  // Handout links name bucket keys from the root; an origin path would put every request elsewhere.
  if (bucketOrigin.OriginPath) {
    return failed(
      ORIGIN,
      `origin ${bucketOrigin.Id} has the origin path ${bucketOrigin.OriginPath}, so links reach other objects than the keys they name`,
      `Clear the origin path of origin ${bucketOrigin.Id} (CloudFront → Origins → Edit → Origin path).`,
    );
  }
  return passed(
    ORIGIN,
    `${bucketOrigin.DomainName}, through origin access control ${bucketOrigin.OriginAccessControlId}`,
  );
}
