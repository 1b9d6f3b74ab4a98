import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

export interface TestBucket {
  readonly name: string;
  /** http://127.0.0.1:PORT: set as AWS_ENDPOINT_URL_S3 for code that builds its own client. */
  readonly endpoint: string;
  readonly client: S3Client;
  /** The environment a process needs to reach this bucket with the standard AWS variables. */
  readonly env: Record<string, string>;
  put(key: string, body?: string | Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** A real S3-compatible server over HTTP on loopback, with one empty bucket, in a fresh folder. */
export async function startTestBucket(name = "handout-test"): Promise<TestBucket> {
  const directory = await mkdtemp(join(tmpdir(), "handout-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const env = {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_ENDPOINT_URL_S3: endpoint,
    HANDOUT_BUCKET: name,
    HANDOUT_S3_FORCE_PATH_STYLE: "true",
  };
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    name,
    endpoint,
    client,
    env,
    async put(key, body = `contents of ${key}`) {
      await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: body }));
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
