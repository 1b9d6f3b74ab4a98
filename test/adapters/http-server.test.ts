import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHttpServer, SERVER_LIMITS, startHttpServer } from "../../src/app/http-server.js";

describe("Handout's HTTP server under slow or many clients", () => {
  let server: RunningHttpServer;

  beforeAll(async () => {
    // Bolt reads the whole body before it answers.
    server = await startHttpServer({
      port: 0,
      health: () => ({ ok: true }),
      slack: (req, res) => req.resume().on("end", () => res.end("ok")),
    });
  });
  afterAll(() => server.stop());

  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    });

  /** Writes `start`, then `drip` every 200 ms; resolves with what came back and when the server closed. */
  async function dribble(start: string, drip: string) {
    const socket = await open();
    const began = Date.now();
    let answer = "";
    socket.on("data", (chunk) => {
      answer += String(chunk);
    });
    socket.on("error", () => {});
    socket.write(start);
    const timer = setInterval(() => socket.writable && socket.write(drip), 200);
    await new Promise((resolve) => socket.once("close", resolve));
    clearInterval(timer);
    return { answer, seconds: (Date.now() - began) / 1000 };
  }

  it("cuts off a client that dribbles its headers or its body within seconds, not minutes", async () => {
    const [headers, body] = await Promise.all([
      dribble("GET /healthz HTTP/1.1\r\nHost: handout\r\n", "X-Slow: 1\r\n"),
      dribble(
        "POST /slack/events HTTP/1.1\r\nHost: handout\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n",
        "a",
      ),
    ]);
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(headers.seconds).toBeLessThan(SERVER_LIMITS.headersTimeoutMs / 1000 + 2);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(body.seconds).toBeLessThan(SERVER_LIMITS.requestTimeoutMs / 1000 + 2);
  }, 20_000);

  it("closes connections beyond its limit on arrival, and serves again once they go", async () => {
    const held = await Promise.all(Array.from({ length: SERVER_LIMITS.maxConnections }, open));
    try {
      const extra = await open();
      const closed = await new Promise<boolean>((resolve) => {
        extra.on("error", () => {});
        extra.once("close", () => resolve(true));
        extra.write("GET /healthz HTTP/1.1\r\nHost: handout\r\n\r\n");
        setTimeout(() => resolve(false), 2_000);
      });
      expect(closed).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
    }
    const healthz = () =>
      fetch(`http://127.0.0.1:${server.port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.status,
        () => undefined,
      );
    await expect.poll(healthz, { timeout: 5_000 }).toBe(200);
  });
});
