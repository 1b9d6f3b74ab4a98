import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectionTag, parse, type ScalarTag, type Tags } from "yaml";
import { loadConfig } from "../../src/config/config.js";
import { makeKeyPair } from "../support/keys.js";
import { runProcess } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TEMPLATE = join(ROOT, "infra", "handout.yml");
const DEPLOY = join(ROOT, "infra", "deploy.sh");
const REVOCATION_FUNCTION = join(ROOT, "cloudfront", "revocation.js");

// CloudFormation's short forms (!Ref, !GetAtt, !Sub, …), read as the long forms they stand for.
const FUNCTIONS = ["Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select"];
const CONDITION_FUNCTIONS = ["And", "Equals", "If", "Not", "Or"];
const longForm = (name: string) => (name === "Ref" || name === "Condition" ? name : `Fn::${name}`);
const cloudFormationTags: Tags = [
  "Ref",
  "Condition",
  ...FUNCTIONS,
  ...CONDITION_FUNCTIONS,
  "Split",
  "Sub",
  "Transform",
].flatMap((name): Tags => {
  const scalar: ScalarTag = {
    tag: `!${name}`,
    resolve: (value) => ({ [longForm(name)]: name === "GetAtt" ? value.split(".") : value }),
  };
  const collection = (kind: "seq" | "map"): CollectionTag => ({
    tag: `!${name}`,
    collection: kind,
    resolve: (node) => ({ [longForm(name)]: node.toJSON() }),
  });
  return [scalar, collection("seq"), collection("map")];
});

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: JsonObject;
}
interface Template {
  Parameters: Record<string, JsonObject>;
  Conditions: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Description: string; Value: Json; Condition?: string }>;
}

const parseTemplate = (text: string): Template =>
  parse(text, { customTags: cloudFormationTags, prettyErrors: true }) as Template;

const ref = (name: string) => ({ Ref: name });
const getAtt = (resource: string, attribute: string) => ({ "Fn::GetAtt": [resource, attribute] });

let text: string;
let template: Template;

/** The API calls a source file imports from `@aws-sdk/<sdk>`: `PutKeyCommand` is `PutKey`, `paginateListKeys` `ListKeys`. */
async function commandsImported(file: string, sdk: string): Promise<string[]> {
  const source = await readFile(join(ROOT, file), "utf8");
  const names = new RegExp(`import \\{([^}]*)\\} from "@aws-sdk/${sdk}"`).exec(source)?.[1] ?? "";
  return names
    .split(",")
    .map((name) => name.trim())
    .filter((name) => !name.startsWith("type ") && /Command$|^paginate/.test(name))
    .map((name) => name.replace(/Command$/, "").replace(/^paginate/, ""));
}

/** The one resource of `type`, with its logical ID. */
function only(type: string): [string, Resource] {
  const found = Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
  expect(
    found.map(([id]) => id),
    `resources of type ${type}`,
  ).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** Every object in `value`, depth first. */
function* objects(value: Json): Generator<JsonObject> {
  if (Array.isArray(value)) for (const item of value) yield* objects(item);
  else if (value !== null && typeof value === "object") {
    yield value;
    for (const item of Object.values(value)) yield* objects(item);
  }
}

const deploySh = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runProcess("bash", [DEPLOY, ...args], { env: { ...process.env, ...env } });

beforeAll(async () => {
  text = await readFile(TEMPLATE, "utf8");
  template = parseTemplate(text);
});

describe("infra/handout.yml", () => {
  it("names only parameters, resources and conditions that it declares", () => {
    const names = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources)]);
    const known = (name: string) => names.has(name) || name.startsWith("AWS::");
    const conditions = new Set(Object.keys(template.Conditions));
    const all = template as unknown as Json;
    for (const object of objects(all)) {
      if (typeof object.Ref === "string") expect(known(object.Ref), `!Ref ${object.Ref}`).toBe(true);
      const getAttOf = object["Fn::GetAtt"];
      if (Array.isArray(getAttOf)) {
        expect(template.Resources[getAttOf[0] as string], `!GetAtt ${getAttOf.join(".")}`).toBeDefined();
      }
      const sub = object["Fn::Sub"];
      if (typeof sub === "string") {
        for (const [, name] of sub.matchAll(/\$\{(?!!)([^}.]+)(?:\.[^}]+)?\}/g)) {
          expect(known(name as string), `\${${name}} in !Sub`).toBe(true);
        }
      }
      const ifOf = object["Fn::If"];
      if (Array.isArray(ifOf)) expect(conditions.has(ifOf[0] as string), `!If ${ifOf[0]}`).toBe(true);
      if (typeof object.Condition === "string") {
        expect(conditions.has(object.Condition), `Condition ${object.Condition}`).toBe(true);
      }
    }
  });

  it("keeps the bucket private, encrypted with S3's own keys, and kept when the stack is deleted", () => {
    const [, bucket] = only("AWS::S3::Bucket");
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    // SSE-KMS would need kms:Decrypt for CloudFront, or every link answers Access denied.
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: true },
      ],
    });
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.UpdateReplacePolicy).toBe("Retain");
  });

  it("lets only this distribution read the bucket, through origin access control", () => {
    const [bucketId] = only("AWS::S3::Bucket");
    const [distributionId] = only("AWS::CloudFront::Distribution");
    const [, policy] = only("AWS::S3::BucketPolicy");
    expect(policy.Properties.Bucket).toEqual(ref(bucketId));

    const statements = (policy.Properties.PolicyDocument as { Statement: JsonObject[] }).Statement;
    const allows = statements.filter((statement) => statement.Effect === "Allow");
    expect(allows).toEqual([
      {
        Sid: expect.any(String),
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: { "Fn::Sub": `\${${bucketId}.Arn}/*` },
        Condition: {
          StringEquals: {
            "AWS:SourceArn": {
              "Fn::Sub": `arn:\${AWS::Partition}:cloudfront::\${AWS::AccountId}:distribution/\${${distributionId}}`,
            },
          },
        },
      },
    ]);

    const [oacId, oac] = only("AWS::CloudFront::OriginAccessControl");
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: "s3",
      SigningBehavior: "always",
      SigningProtocol: "sigv4",
    });
    const config = only("AWS::CloudFront::Distribution")[1].Properties.DistributionConfig as JsonObject;
    expect(config.Origins).toEqual([
      {
        Id: expect.any(String),
        DomainName: getAtt(bucketId, "RegionalDomainName"),
        OriginAccessControlId: getAtt(oacId, "Id"),
        S3OriginConfig: { OriginAccessIdentity: "" },
      },
    ]);
  });

  it("serves only URLs signed by a key in its trusted key group, and only over HTTPS", () => {
    const [keyId, key] = only("AWS::CloudFront::PublicKey");
    const [groupId, group] = only("AWS::CloudFront::KeyGroup");
    expect((group.Properties.KeyGroupConfig as JsonObject).Items).toEqual([ref(keyId)]);
    expect((key.Properties.PublicKeyConfig as JsonObject).EncodedKey).toEqual(ref("PublicKey"));

    const config = only("AWS::CloudFront::Distribution")[1].Properties.DistributionConfig as JsonObject;
    const origins = config.Origins as JsonObject[];
    const behaviour = config.DefaultCacheBehavior as JsonObject;
    expect(behaviour.TargetOriginId).toBe(origins[0]?.Id);
    expect(behaviour.TrustedKeyGroups).toEqual([ref(groupId)]);
    expect(behaviour.TrustedSigners).toBeUndefined();
    expect(behaviour.ViewerProtocolPolicy).toBe("redirect-to-https");
    expect(behaviour.AllowedMethods).toEqual(["GET", "HEAD"]);
    // No other path may skip the signature check.
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.Enabled).toBe(true);
  });

  it("takes the public key from `handout keys generate` as a parameter, and refuses a private key", () => {
    const parameter = template.Parameters.PublicKey as JsonObject;
    expect(parameter.Type).toBe("String");
    expect(parameter.Default).toBeUndefined();
    // CloudFormation matches the whole value; this pattern reads the same in Java's and JavaScript's regex.
    const pattern = new RegExp(parameter.AllowedPattern as string);
    const pair = makeKeyPair();
    expect(pattern.test(pair.publicPem)).toBe(true);
    expect(pattern.test(pair.publicPem.trimEnd())).toBe(true);
    expect(pattern.test(pair.privatePem)).toBe(false);
    expect(pattern.test(`${pair.publicPem}${pair.privatePem}`)).toBe(false);
    expect(pattern.test("")).toBe(false);
  });

  it("makes the secret for the private key, but never holds a key itself", () => {
    const [, secret] = only("AWS::SecretsManager::Secret");
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    expect(text).not.toMatch(/PRIVATE KEY-----|BEGIN PUBLIC KEY-----[A-Za-z0-9+/]/);
    for (const parameter of Object.values(template.Parameters)) expect(parameter.NoEcho).toBeUndefined();
  });

  it("outputs exactly the settings Handout reads, by their variable names", () => {
    const [bucketId] = only("AWS::S3::Bucket");
    const [distributionId] = only("AWS::CloudFront::Distribution");
    const [keyId] = only("AWS::CloudFront::PublicKey");
    const [secretId] = only("AWS::SecretsManager::Secret");
    const [storeId] = only("AWS::CloudFront::KeyValueStore");
    const expected: Record<string, Json> = {
      HANDOUT_BUCKET: ref(bucketId),
      CLOUDFRONT_DOMAIN: getAtt(distributionId, "DomainName"),
      CLOUDFRONT_PUBLIC_KEY_ID: ref(keyId),
      CLOUDFRONT_PRIVATE_KEY_SECRET_ID: ref(secretId),
      HANDOUT_REVOCATION_KVS_ARN: getAtt(storeId, "Arn"),
      HANDOUT_INDEX_SNAPSHOT: { "Fn::Sub": `s3://\${${bucketId}}/handout-index` },
      HANDOUT_INDEX_QUEUE_URL: ref("IndexQueue"),
    };
    const byVariable = Object.fromEntries(
      Object.values(template.Outputs)
        .map((output) => [/^([A-Z][A-Z0-9_]+) —/.exec(output.Description)?.[1], output.Value] as const)
        .filter(([name]) => name !== undefined),
    );
    expect(byVariable).toEqual(expected);

    // Values shaped as the stack gives them are what Handout's configuration accepts.
    const config = loadConfig(
      {
        HANDOUT_BUCKET: "handout-bucket-1a2b3c4d5e6f",
        CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
        CLOUDFRONT_PUBLIC_KEY_ID: "K2JCJMDEHXQW5F",
        CLOUDFRONT_PRIVATE_KEY_SECRET_ID:
          "arn:aws:secretsmanager:eu-west-1:123456789012:secret:handout/cloudfront-private-key-AbCdEf",
        HANDOUT_REVOCATION_KVS_ARN:
          "arn:aws:cloudfront::123456789012:key-value-store/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        HANDOUT_INDEX_SNAPSHOT: "s3://handout-bucket-1a2b3c4d5e6f/handout-index",
        // What !Ref gives for a queue: its URL.
        HANDOUT_INDEX_QUEUE_URL:
          "https://sqs.eu-west-1.amazonaws.com/123456789012/handout-IndexQueue-AbC123dEf456",
      },
      { storage: "complete" },
    );
    expect(config.storage).toMatchObject({
      mode: "aws",
      bucket: { name: "handout-bucket-1a2b3c4d5e6f" },
      signing: { keySource: { kind: "secret" } },
    });
    expect(config.revocationStoreArn).toMatch(/key-value-store/);
    expect(config.indexSnapshot).toEqual({
      kind: "s3",
      bucket: "handout-bucket-1a2b3c4d5e6f",
      prefix: "handout-index",
    });
    expect(config.indexEvents?.kind).toBe("queue");
  });

  it("grants Handout reading its bucket and its signing key, keeping the revocation list and the ledger, and saving the index snapshot", async () => {
    const [bucketId] = only("AWS::S3::Bucket");
    const [secretId] = only("AWS::SecretsManager::Secret");
    const [storeId] = only("AWS::CloudFront::KeyValueStore");
    const [policyId, policy] = only("AWS::IAM::ManagedPolicy");
    const statements = (policy.Properties.PolicyDocument as { Statement: Json[] }).Statement;
    const grants = statements.map((statement) => {
      const conditional = (statement as JsonObject)["Fn::If"] as [string, JsonObject, Json] | undefined;
      const granted = conditional ? conditional[1] : (statement as JsonObject);
      return {
        when: conditional?.[0],
        Effect: granted.Effect,
        Action: granted.Action,
        Resource: granted.Resource,
      };
    });
    expect(grants).toEqual([
      { when: undefined, Effect: "Allow", Action: "s3:ListBucket", Resource: getAtt(bucketId, "Arn") },
      {
        when: undefined,
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: { "Fn::Sub": `\${${bucketId}.Arn}/*` },
      },
      {
        when: undefined,
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: { "Fn::Sub": `\${${bucketId}.Arn}/handout-index/*` },
      },
      { when: undefined, Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: ref(secretId) },
      {
        when: "RevocationEnabled",
        Effect: "Allow",
        Action: expect.any(Array),
        Resource: getAtt(storeId, "Arn"),
      },
      {
        when: "HasLedgerTable",
        Effect: "Allow",
        Action: expect.any(Array),
        Resource: [
          {
            "Fn::Sub": `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/\${LedgerTable}`,
          },
          {
            "Fn::Sub": `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/\${LedgerTable}/index/*`,
          },
        ],
      },
      {
        when: "OnContainers",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
        Resource: getAtt("IndexQueue", "Arn"),
      },
    ]);
    // SQS authorises each batch call as its single form: DeleteMessageBatch is sqs:DeleteMessage.
    const sqsActions = await commandsImported("src/files/event-queue.ts", "client-sqs");
    expect(sqsActions.map((command) => `sqs:${command.replace(/Batch$/, "")}`).sort()).toEqual(
      ["sqs:DeleteMessage", "sqs:ReceiveMessage"].sort(),
    );
    // Exactly the calls the code makes: an action it never calls is a grant nobody needs.
    const kvsActions = await commandsImported(
      "src/links/revocation-store.ts",
      "client-cloudfront-keyvaluestore",
    );
    const actions = (i: number) => [...((grants[i]?.Action as string[] | undefined) ?? [])].sort();
    expect(actions(4)).toEqual(kvsActions.map((command) => `cloudfront-keyvaluestore:${command}`).sort());
    // The document client's commands are DynamoDB's item actions under shorter names.
    const item: Record<string, string> = {
      Get: "GetItem",
      Put: "PutItem",
      Update: "UpdateItem",
      Query: "Query",
    };
    const ledgerActions = await commandsImported("src/ledger/dynamodb.ts", "lib-dynamodb");
    expect(actions(5)).toEqual(
      ledgerActions.map((command) => `dynamodb:${item[command] ?? `${command}?`}`).sort(),
    );
    expect(Object.values(template.Outputs).map((output) => output.Value)).toContainEqual(ref(policyId));
  });
});

describe("the expiry schedule for AWS Lambda (LambdaFunctionArn)", () => {
  it("is made only with a function's ARN, and invokes that function every five minutes", () => {
    const parameter = template.Parameters.LambdaFunctionArn as JsonObject;
    expect(parameter.Default).toBe("");
    const pattern = new RegExp(parameter.AllowedPattern as string);
    expect(pattern.test("")).toBe(true);
    expect(pattern.test("arn:aws:lambda:eu-west-1:123456789012:function:handout")).toBe(true);
    expect(pattern.test("arn:aws:lambda:eu-west-1:123456789012:function:handout:live")).toBe(true);
    expect(pattern.test("handout")).toBe(false);
    expect(pattern.test("arn:aws:s3:::handout")).toBe(false);
    expect(template.Conditions.OnLambda).toEqual({
      "Fn::Not": [{ "Fn::Equals": [ref("LambdaFunctionArn"), ""] }],
    });

    const ruleId = "ExpirySchedule";
    const rule = template.Resources[ruleId] as Resource;
    expect(rule.Condition).toBe("OnLambda");
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
      Targets: [{ Arn: ref("LambdaFunctionArn") }],
    });
    const permission = template.Resources.ExpiryScheduleInvoke as Resource;
    expect(permission.Condition).toBe("OnLambda");
    expect(permission.Properties).toEqual({
      Action: "lambda:InvokeFunction",
      FunctionName: ref("LambdaFunctionArn"),
      Principal: "events.amazonaws.com",
      SourceArn: getAtt(ruleId, "Arn"),
    });
  });
});

describe("revocation at the edge (EnableRevocation=true)", () => {
  it("is off unless asked for, and then adds the store, the function and the permission together", () => {
    expect(template.Parameters.EnableRevocation).toMatchObject({
      Default: "false",
      AllowedValues: ["true", "false"],
    });
    expect(template.Conditions.RevocationEnabled).toEqual({
      "Fn::Equals": [ref("EnableRevocation"), "true"],
    });
    expect(only("AWS::CloudFront::KeyValueStore")[1].Condition).toBe("RevocationEnabled");
    expect(only("AWS::CloudFront::Function")[1].Condition).toBe("RevocationEnabled");
    const kvsOutput = Object.values(template.Outputs).find((output) =>
      output.Description.startsWith("HANDOUT_REVOCATION_KVS_ARN"),
    );
    expect(kvsOutput?.Condition).toBe("RevocationEnabled");
  });

  it("runs the function on every viewer request, with the store of revoked links", () => {
    const [storeId] = only("AWS::CloudFront::KeyValueStore");
    const [functionId, fn] = only("AWS::CloudFront::Function");
    expect(fn.Properties.AutoPublish).toBe(true);
    expect(fn.Properties.FunctionConfig).toMatchObject({
      Runtime: "cloudfront-js-2.0",
      KeyValueStoreAssociations: [{ KeyValueStoreARN: getAtt(storeId, "Arn") }],
    });
    const config = only("AWS::CloudFront::Distribution")[1].Properties.DistributionConfig as JsonObject;
    expect((config.DefaultCacheBehavior as JsonObject).FunctionAssociations).toEqual({
      "Fn::If": [
        "RevocationEnabled",
        [{ EventType: "viewer-request", FunctionARN: getAtt(functionId, "FunctionARN") }],
        ref("AWS::NoValue"),
      ],
    });
  });

  it("refuses every link if deployed without its code, rather than let revoked links through", () => {
    const code = only("AWS::CloudFront::Function")[1].Properties.FunctionCode as string;
    expect(code).toContain("HANDOUT_REVOCATION_FUNCTION");
    expect(code).toMatch(/statusCode: 503/);
  });

  describe("infra/deploy.sh", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "handout-infra-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("puts the function's code into the template line for line, and changes nothing else", async () => {
      const code = `import cf from "cloudfront";

// Characters YAML cares about: a colon: here, # a hash, 'single' and "double" quotes, \${braces}
const kvs = cf.kvs();

async function handler(event) {
\tconst query = event.request.querystring; // indented with a tab
  if (query.Signature && (await kvs.exists(\`sig:\${query.Signature.value}\`))) {
    return { statusCode: 403, statusDescription: "Forbidden" };
  }
  return event.request;
}
`;
      const file = join(dir, "revocation.js");
      await writeFile(file, code);

      const rendered = await deploySh(["--print-template"], { HANDOUT_REVOCATION_FUNCTION_FILE: file });
      expect(rendered.stderr).toBe("");
      expect(rendered.code).toBe(0);
      const deployed = parseTemplate(rendered.stdout);
      const [functionId] = only("AWS::CloudFront::Function");
      expect(deployed.Resources[functionId]?.Properties.FunctionCode).toBe(code);
      const unchanged = structuredClone(deployed);
      (unchanged.Resources[functionId] as Resource).Properties.FunctionCode = template.Resources[functionId]
        ?.Properties.FunctionCode as string;
      expect(unchanged).toEqual(template);
    });

    it("refuses code larger than the 10 KB CloudFront allows a function", async () => {
      const file = join(dir, "too-big.js");
      await writeFile(file, `function handler(event) { return event.request; }\n//${"x".repeat(10_240)}\n`);
      const rendered = await deploySh(["--print-template"], { HANDOUT_REVOCATION_FUNCTION_FILE: file });
      expect(rendered.code).toBe(1);
      expect(rendered.stderr).toContain("10 KB");
    });

    it("deploys cloudfront/revocation.js, or says that the file is missing", async () => {
      const rendered = await deploySh(["--print-template"]);
      if (existsSync(REVOCATION_FUNCTION)) {
        expect(rendered.code).toBe(0);
        const [functionId] = only("AWS::CloudFront::Function");
        const deployed = parseTemplate(rendered.stdout).Resources[functionId]?.Properties.FunctionCode;
        // A YAML block keeps one final line break, whatever the file ends with.
        expect((deployed as string).trimEnd()).toBe((await readFile(REVOCATION_FUNCTION, "utf8")).trimEnd());
      } else {
        expect(rendered.code).toBe(1);
        expect(rendered.stderr).toContain("cloudfront/revocation.js does not exist");
      }
    });
  });
});

describe("S3's object events for the file index", () => {
  it("turns on EventBridge for the bucket and sends only its created and deleted objects' events", () => {
    const [bucketId, bucket] = only("AWS::S3::Bucket");
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    // An upload of the index snapshot that a stopped process left unfinished is ended after a day.
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: "AbandonedIndexSnapshotUploads",
          Status: "Enabled",
          Prefix: "handout-index/",
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    const rule = template.Resources.IndexEvents as Resource;
    expect(rule.Condition).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created", "Object Deleted"],
      detail: { bucket: { name: [ref(bucketId)] } },
    });
  });

  it("invokes the function on AWS Lambda, and fills a queue with a dead-letter queue otherwise", () => {
    const rule = template.Resources.IndexEvents as Resource;
    expect(rule.Properties.Targets).toEqual([
      {
        "Fn::If": [
          "OnLambda",
          { Id: "handout", Arn: ref("LambdaFunctionArn") },
          { Id: "handout-index-queue", Arn: getAtt("IndexQueue", "Arn") },
        ],
      },
    ]);
    expect(template.Conditions.OnContainers).toEqual({ "Fn::Equals": [ref("LambdaFunctionArn"), ""] });
    expect(template.Resources.IndexEventsInvoke).toEqual({
      Type: "AWS::Lambda::Permission",
      Condition: "OnLambda",
      Properties: {
        Action: "lambda:InvokeFunction",
        FunctionName: ref("LambdaFunctionArn"),
        Principal: "events.amazonaws.com",
        SourceArn: getAtt("IndexEvents", "Arn"),
      },
    });
    const queue = template.Resources.IndexQueue as Resource;
    expect(queue.Condition).toBe("OnContainers");
    // Long polling by default, and a message that keeps failing moves aside instead of coming back forever.
    expect(queue.Properties).toMatchObject({
      ReceiveMessageWaitTimeSeconds: 20,
      RedrivePolicy: { deadLetterTargetArn: getAtt("IndexDeadLetterQueue", "Arn"), maxReceiveCount: 5 },
    });
    expect((template.Resources.IndexDeadLetterQueue as Resource).Condition).toBe("OnContainers");
  });

  it("lets only the index rule send to the queue", () => {
    const policy = template.Resources.IndexQueuePolicy as Resource;
    expect(policy.Condition).toBe("OnContainers");
    expect(policy.Properties).toEqual({
      Queues: [ref("IndexQueue")],
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "OnlyTheIndexRuleSends",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: getAtt("IndexQueue", "Arn"),
            Condition: { ArnEquals: { "aws:SourceArn": getAtt("IndexEvents", "Arn") } },
          },
        ],
      },
    });
  });
});
