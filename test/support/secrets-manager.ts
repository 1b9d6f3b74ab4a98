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
  readonly requests: string[];
  client(): SecretsManagerClient;
  stop(): Promise<void>;
}

export async function startSecretsManagerDouble(): Promise<SecretsManagerDouble> {
  const secrets = new Map<string, string>();
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
      if (target !== "secretsmanager.GetSecretValue") {
        reply(400, { __type: "InvalidRequestException", message: `unsupported ${target}` });
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
