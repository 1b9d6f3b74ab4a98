import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningHandout, startHandout } from "../../src/app/server.js";
import { makeKeyPair } from "../support/keys.js";
import { captureLogs } from "../support/log.js";
import { startTestBucket, type TestBucket } from "../support/s3.js";
import { s3Event } from "../support/s3-events.js";
import { type SqsDouble, startSqsDouble } from "../support/sqs-double.js";
import { tempFolder } from "../support/temp.js";

let bucket: TestBucket;
let sqs: SqsDouble;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  bucket = await startTestBucket("handout-events");
  await bucket.put("reports/listed.pdf");
  sqs = await startSqsDouble();
  const dir = await tempFolder("index-queue");
  const pair = makeKeyPair();
  await writeFile(join(dir, "private_key.pem"), pair.privatePem, { mode: 0o600 });
  await writeFile(join(dir, "access.yml"), "rules:\n  - who: { everyone: true }\n    prefixes: [reports/]\n");
  // The SDK's clients read the standard AWS variables from the process, as in production.
  for (const [name, value] of Object.entries({ ...bucket.env, AWS_ENDPOINT_URL_SQS: sqs.endpoint })) {
    vi.stubEnv(name, value);
  }
  env = {
    ...bucket.env,
    PORT: "0",
    CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
    CLOUDFRONT_PUBLIC_KEY_ID: pair.keyPairId,
    CLOUDFRONT_PRIVATE_KEY_FILE: join(dir, "private_key.pem"),
    HANDOUT_POLICY_FILE: join(dir, "access.yml"),
    HANDOUT_LEDGER: `sqlite:${join(dir, "handout.db")}`,
    HANDOUT_INDEX_QUEUE_URL: sqs.queueUrl,
  };
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await sqs?.stop();
  await bucket?.stop();
});

const found = (running: RunningHandout, query: string) =>
  running.index.search(query, ["reports/"], 10).files.map((f) => f.key);

describe("a long-running Handout with HANDOUT_INDEX_QUEUE_URL", () => {
  it("offers a file its queue announces without listing again, and stops with a long poll under way", async () => {
    const logs = captureLogs();
    const running = await startHandout(env, logs.logger);
    try {
      await vi.waitFor(() => expect(running.index.status().complete).toBe(true));
      const listed = running.index.status().lastBuild?.requests;
      await vi.waitFor(() => expect(sqs.waiting).toBe(1));
      // Not in the bucket: only the event can put it in the index.
      sqs.send(
        JSON.stringify(s3Event("Object Created", "reports/arrived.pdf", "01", { bucket: "handout-events" })),
      );
      await vi.waitFor(() => expect(found(running, "arrived")).toEqual(["reports/arrived.pdf"]));
      await vi.waitFor(() => expect(sqs.remaining).toBe(0));
      expect(running.index.status().lastBuild?.requests).toBe(listed);
      sqs.send(
        JSON.stringify(s3Event("Object Deleted", "reports/listed.pdf", "02", { bucket: "handout-events" })),
      );
      await vi.waitFor(() => expect(found(running, "listed")).toEqual([]));
      await vi.waitFor(() => expect(sqs.waiting).toBe(1));
    } finally {
      await running.stop();
    }
    await vi.waitFor(() => expect(sqs.abandoned).toBe(1));
    // Stopping cut the poll off: nothing to warn about (Slack is not configured here, which is said).
    const warnings = logs
      .lines()
      .filter((line) => line.level === 40 && !String(line.msg).startsWith("Slack is not"));
    expect(warnings).toEqual([]);
  });
});
