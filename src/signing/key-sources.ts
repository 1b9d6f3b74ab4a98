import { readFile } from "node:fs/promises";
import type { GetSecretValueCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { cliCommand } from "../config/cli-command.js";
import { HandoutError } from "../domain/errors.js";

/** Where the private key's text comes from: the raw PEM, or a JSON secret holding it. */
export interface KeyTextSource {
  /** Names the source in messages, e.g. `the secret cloudfront/handout`. */
  readonly description: string;
  read(): Promise<string>;
}

const unavailable = (message: string, cause: unknown) =>
  new HandoutError("SIGNING_KEY_UNAVAILABLE", message, { cause });

/**
 * `client` may be a function that builds it: the SDK package is then loaded on the first read, not
 * when the process starts.
 */
export function secretsManagerKeySource(
  client: SecretsManagerClient | (() => Promise<SecretsManagerClient>),
  secretId: string,
): KeyTextSource {
  const description = `the secret ${secretId}`;
  let built: Promise<SecretsManagerClient> | undefined;
  return {
    description,
    async read() {
      let answer: GetSecretValueCommandOutput;
      built ??= typeof client === "function" ? client() : Promise.resolve(client);
      const sdk = await built;
      try {
        const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
        answer = await sdk.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (error) {
        const name = (error as { name?: string }).name ?? "Error";
        const said = (error as { message?: string }).message ?? "";
        const region = await sdk.config.region().catch(() => "?");
        const command = (verb: string, rest = "") =>
          `\`aws secretsmanager ${verb} --secret-id ${secretId}${region === "?" ? "" : ` --region ${region}`}${rest}\``;
        // A secret created without a value (as infra/handout.yml leaves it) has no AWSCURRENT version.
        if (name === "ResourceNotFoundException" && /secret value|staging label/i.test(said)) {
          throw unavailable(
            `Cannot read ${description}: it exists but holds no value yet. Store the private key in it: ${command("put-secret-value", " --secret-string file://keys/private_key.pem")}.`,
            error,
          );
        }
        if (name === "InvalidRequestException" && /marked (for )?delet/i.test(said)) {
          throw unavailable(
            `Cannot read ${description}: it is scheduled for deletion. Restore it with ${command("restore-secret")}, or point CLOUDFRONT_PRIVATE_KEY_SECRET_ID at another secret.`,
            error,
          );
        }
        if (name === "ResourceNotFoundException") {
          throw unavailable(
            `Cannot read ${description}: there is no such secret in region ${region}. Check CLOUDFRONT_PRIVATE_KEY_SECRET_ID and AWS_REGION.`,
            error,
          );
        }
        if (name === "AccessDeniedException") {
          throw unavailable(
            `Cannot read ${description}: access denied. Allow secretsmanager:GetSecretValue on it (and kms:Decrypt if it uses a customer managed key).`,
            error,
          );
        }
        throw unavailable(
          `Cannot read ${description} from Secrets Manager (${name}): check the network and AWS credentials.`,
          error,
        );
      }
      if (answer.SecretString !== undefined) return answer.SecretString;
      if (answer.SecretBinary !== undefined) return Buffer.from(answer.SecretBinary).toString("utf8");
      throw unavailable(`${description} has no value: store the private key PEM in it.`, undefined);
    },
  };
}

export function fileKeySource(path: string): KeyTextSource {
  const description = `the file ${path}`;
  return {
    description,
    async read() {
      try {
        return await readFile(path, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason =
          code === "ENOENT"
            ? "it does not exist"
            : code === "EACCES"
              ? "permission denied"
              : (code ?? "unreadable");
        throw unavailable(
          `Cannot read ${description} (${reason}): check CLOUDFRONT_PRIVATE_KEY_FILE, or create a key pair with \`${cliCommand()} keys generate\`.`,
          error,
        );
      }
    },
  };
}
