import { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventQueueReader } from "../../src/files/event-queue.js";
import { FileIndex } from "../../src/search/file-index.js";
import { memoryPageSource } from "../../src/search/lister.js";
import { ObjectEventApplier } from "../../src/search/object-events.js";
import { captureLogs } from "../support/log.js";
import { s3Event } from "../support/s3-events.js";
import { type SqsDouble, startSqsDouble } from "../support/sqs-double.js";

const BUCKET = "handout-files";

let sqs: SqsDouble;
let client: SQSClient;
let index: FileIndex;
let reader: EventQueueReader | undefined;
let logs: ReturnType<typeof captureLogs>;
const warnings = () =>
  logs
    .lines()
    .filter((line) => line.level === 40)
    .map((line) => String(line.msg));

beforeEach(async () => {
  sqs = await startSqsDouble();
  client = new SQSClient({
    endpoint: sqs.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  index = new FileIndex({ source: memoryPageSource([]), roots: ["reports/"] });
  await index.refresh();
  logs = captureLogs();
});

afterEach(async () => {
  await reader?.stop();
  reader = undefined;
  client.destroy();
  await sqs.stop();
});

function startReader(retryDelayMs = 10) {
  const applier = new ObjectEventApplier({ index, bucket: BUCKET });
  reader = new EventQueueReader({
    client,
    queueUrl: sqs.queueUrl,
    apply: (events) => applier.apply(events),
    logger: logs.logger,
    retryDelayMs,
  });
  reader.start();
  return reader;
}

const found = (query: string) => index.search(query, ["reports/"], 10).files.map((f) => f.key);

describe("the index queue reader, against SQS over HTTP", () => {
  it("long-polls, applies what arrives, and deletes it in one batch", async () => {
    startReader();
    await vi.waitFor(() => expect(sqs.waiting).toBe(1));
    sqs.send(JSON.stringify(s3Event("Object Created", "reports/new.pdf", "01", { size: 3 })));
    await vi.waitFor(() => expect(sqs.remaining).toBe(0));
    expect(found("new")).toEqual(["reports/new.pdf"]);
    const receive = sqs.calls.find((c) => c.action === "ReceiveMessage");
    expect(receive?.input).toMatchObject({
      QueueUrl: sqs.queueUrl,
      WaitTimeSeconds: 20,
      MaxNumberOfMessages: 10,
    });
  });

  it("deletes several messages with one request once their events are applied", async () => {
    sqs.send(JSON.stringify(s3Event("Object Created", "reports/a.pdf", "01")));
    sqs.send(JSON.stringify(s3Event("Object Created", "reports/b.pdf", "01")));
    sqs.send(JSON.stringify(s3Event("Object Deleted", "reports/a.pdf", "02")));
    startReader();
    await vi.waitFor(() => expect(sqs.remaining).toBe(0));
    const deletes = sqs.calls.filter((c) => c.action === "DeleteMessageBatch");
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.input.Entries).toHaveLength(3);
    expect(found("")).toEqual(["reports/b.pdf"]);
  });

  it("leaves a message that holds no S3 object event for the dead-letter queue", async () => {
    sqs.send("not json");
    sqs.send(JSON.stringify({ source: "aws.s3", "detail-type": "Object Created", detail: {} }));
    sqs.send(JSON.stringify(s3Event("Object Created", "reports/ok.pdf", "01")));
    startReader();
    await vi.waitFor(() => expect(sqs.remaining).toBe(2));
    expect(found("")).toEqual(["reports/ok.pdf"]);
    expect(warnings().filter((w) => w.includes("dead-letter queue"))).toHaveLength(2);
  });

  it("tries again after SQS fails, and applies the events then", async () => {
    // The SDK tries each request 3 times itself: the fourth attempt is the reader's own retry.
    sqs.failNext(3);
    sqs.send(JSON.stringify(s3Event("Object Created", "reports/later.pdf", "01")));
    startReader();
    await vi.waitFor(() => expect(sqs.remaining).toBe(0), { timeout: 4000 });
    expect(found("later")).toEqual(["reports/later.pdf"]);
    expect(warnings().some((w) => w.startsWith("could not read the index queue"))).toBe(true);
  });

  it("ends a long poll under way when stopped, rather than waiting for its 20 seconds", async () => {
    const running = startReader();
    await vi.waitFor(() => expect(sqs.waiting).toBe(1));
    await running.stop();
    await vi.waitFor(() => expect(sqs.abandoned).toBe(1));
    expect(sqs.calls.filter((c) => c.action === "ReceiveMessage")).toHaveLength(1);
    expect(warnings()).toEqual([]);
  });
});
