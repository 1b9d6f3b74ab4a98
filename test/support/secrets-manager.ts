import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * A Secrets Manager double on loopback that speaks the service's JSON protocol, so the real SDK client
 * makes a real HTTP round trip. Secrets can be changed while it runs (to test rotation).
 */
export interface SecretsManagerDouble {
  readonly endpoint: string;
  readonly secrets: Map<string, string>;
  /** Secrets that exist without a value (created, never given one). */
  readonly empty: Set<string>;
  /** Secrets scheduled for deletion. */
  readonly deleted: Set<string>;
  readonly requests: string[];
  client(): SecretsManagerClient;
  stop(): Promise<void>;
}

export async function startSecretsManagerDouble(): Promise<SecretsManagerDouble> {
  const secrets = new Map<string, string>();
  const empty = new Set<string>();
  const deleted = new Set<string>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"] ?? "");
      const { SecretId } = JSON.parse(body || "{}") as { SecretId?: string };
      requests.push(`${target} ${SecretId}`);
      const reply = (status: number, payload: unknown) => {
        response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        response.end(JSON.stringify(payload));
      };
      const value = SecretId === undefined ? undefined : secrets.get(SecretId);
      // The errors Secrets Manager gives for these states, as documented.
      if (target !== "secretsmanager.GetSecretValue") {
        reply(400, { __type: "InvalidRequestException", message: `unsupported ${target}` });
      } else if (SecretId !== undefined && deleted.has(SecretId)) {
        reply(400, {
          __type: "InvalidRequestException",
          message: "You can't perform this operation on the secret because it was marked for deletion.",
        });
      } else if (SecretId !== undefined && empty.has(SecretId)) {
        reply(400, {
          __type: "ResourceNotFoundException",
          message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        });
      } else if (value === undefined) {
        reply(400, {
          __type: "ResourceNotFoundException",
          message: "Secrets Manager can't find the specified secret.",
        });
      } else {
        reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}`,
          Name: SecretId,
          SecretString: value,
          VersionId: "v1",
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    secrets,
    empty,
    deleted,
    requests,
    client: () =>
      new SecretsManagerClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      }),
    stop: () =>
      new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
