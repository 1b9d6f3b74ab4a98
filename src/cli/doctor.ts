import { parseArgs } from "node:util";
import { LogLevel } from "@slack/web-api";
import {
  createCloudFrontClient,
  createKeyValueStoreClient,
  createS3Client,
  createSecretsManagerClient,
  createSlackClient,
} from "../app/clients.js";
import { type DoctorClients, formatReport, runDoctor } from "../doctor/doctor.js";
import { type CliIo, UsageError } from "./io.js";

export const DOCTOR_USAGE = "doctor";

const LIVE_TIMEOUT_MS = 10_000;

const defaultClients = async (): Promise<DoctorClients> => {
  const [cloudFront, secretsManager, keyValueStore] = await Promise.all([
    createCloudFrontClient(),
    createSecretsManagerClient(),
    createKeyValueStoreClient(),
  ]);
  return {
    cloudFront,
    s3: createS3Client,
    secretsManager: () => secretsManager,
    keyValueStore: () => keyValueStore,
    slack: (settings) =>
      createSlackClient(settings.botToken, settings.apiUrl, {
        // A doctor answers now or says why: no retries spread over minutes.
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: LIVE_TIMEOUT_MS,
        logLevel: LogLevel.ERROR,
      }),
    fetch: globalThis.fetch,
    scheme: "https",
    timeoutMs: LIVE_TIMEOUT_MS,
  };
};

/**
 * Checks the whole chain a link depends on (Slack, the key, CloudFront, the bucket, the policy, and a
 * real request) and prints each finding with its fix. Exit 1 when any check failed.
 */
export async function doctorCommand(
  args: string[],
  io: CliIo,
  clients: Partial<DoctorClients> = {},
): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length > 0) throw new UsageError("doctor takes no arguments: it reads the environment.");
  const results = await runDoctor({
    ...(await defaultClients()),
    ...clients,
    env: io.env,
    cwd: io.cwd,
    now: io.now,
  });
  io.out(formatReport(results));
  return results.some((result) => result.ok === false) ? 1 : 0;
}
