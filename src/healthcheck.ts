import { get } from "node:http";

/**
 * The Docker HEALTHCHECK: asks the running app's GET /healthz on this container's PORT and exits 0 when it
 * answers 200, 1 otherwise. It imports nothing of Handout's, so that it starts in milliseconds.
 */
const port = process.env.PORT || "3000";
const TIMEOUT_MS = 3000;

const request = get(`http://127.0.0.1:${port}/healthz`, { timeout: TIMEOUT_MS }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on("error", (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
