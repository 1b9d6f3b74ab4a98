import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small SQS over loopback HTTP, speaking the JSON protocol that @aws-sdk/client-sqs v3 uses: one
 * queue with ReceiveMessage (long polling, visibility) and DeleteMessageBatch. No npm
 * emulator speaks that protocol on Node 20 (sqslite knows only the older query protocol; fauxqs needs
 * Node 22), so this holds what the reader relies on and no more.
 */
export interface SqsDouble {
  readonly endpoint: string;
  readonly queueUrl: string;
  send(body: string): void;
  /** Messages not deleted, in flight or not. */
  readonly remaining: number;
  /** Every request by its action (`ReceiveMessage`, …), with its parsed body. */
  readonly calls: { action: string; input: Record<string, unknown> }[];
  /** Receives waiting for a message right now. */
  readonly waiting: number;
  /** Receives whose caller hung up before an answer. */
  readonly abandoned: number;
  /** Answers the next `count` requests with a 500. */
  failNext(count: number): void;
  stop(): Promise<void>;
}

interface Stored {
  id: string;
  body: string;
  handle: string | undefined;
  visibleAt: number;
}

export async function startSqsDouble(options: { visibilitySeconds?: number } = {}): Promise<SqsDouble> {
  const messages: Stored[] = [];
  const calls: SqsDouble["calls"] = [];
  const waiters = new Set<() => void>();
  let abandoned = 0;
  let waiting = 0;
  let failures = 0;
  const visibilityMs = (options.visibilitySeconds ?? 30) * 1000;

  const takeVisible = (max: number) => {
    const now = Date.now();
    const taken = messages.filter((m) => m.visibleAt <= now).slice(0, max);
    for (const m of taken) {
      m.handle = randomUUID();
      m.visibleAt = now + visibilityMs;
    }
    return taken;
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let text = "";
    for await (const chunk of req) text += chunk;
    const action = String(req.headers["x-amz-target"] ?? "").replace(/^AmazonSQS\./, "");
    const input = JSON.parse(text || "{}") as Record<string, unknown>;
    calls.push({ action, input });
    if (failures > 0) {
      failures--;
      return answer(res, 500, { __type: "com.amazonaws.sqs#InternalError", message: "injected failure" });
    }
    if (action === "ReceiveMessage") {
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const deadline = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
      let taken = takeVisible(max);
      while (taken.length === 0 && Date.now() < deadline) {
        waiting++;
        const outcome = await new Promise<"woken" | "closed">((resolve) => {
          const done = (why: "woken" | "closed") => {
            clearTimeout(timer);
            waiters.delete(wake);
            res.off("close", closed);
            resolve(why);
          };
          const wake = () => done("woken");
          const closed = () => done("closed");
          const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
          waiters.add(wake);
          res.on("close", closed);
        });
        waiting--;
        if (outcome === "closed") {
          abandoned++;
          return;
        }
        taken = takeVisible(max);
      }
      return answer(res, 200, {
        Messages: taken.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.handle,
          MD5OfBody: createHash("md5").update(m.body).digest("hex"),
          Body: m.body,
        })),
      });
    }
    if (action === "DeleteMessageBatch") {
      const entries = (input.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
      const successful: { Id: string }[] = [];
      const failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
      for (const entry of entries) {
        const at = messages.findIndex((m) => m.handle === entry.ReceiptHandle);
        if (at >= 0) {
          messages.splice(at, 1);
          successful.push({ Id: entry.Id });
        } else {
          failed.push({
            Id: entry.Id,
            Code: "ReceiptHandleIsInvalid",
            SenderFault: true,
            Message: "unknown handle",
          });
        }
      }
      return answer(res, 200, { Successful: successful, Failed: failed });
    }
    return answer(res, 400, { __type: "com.amazonaws.sqs#InvalidAction", message: `no ${action} here` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => answer(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    queueUrl: `${endpoint}/123456789012/handout-index`,
    send(body) {
      messages.push({ id: randomUUID(), body, handle: undefined, visibleAt: 0 });
      for (const wake of [...waiters]) wake();
    },
    get remaining() {
      return messages.length;
    },
    calls,
    get waiting() {
      return waiting;
    },
    get abandoned() {
      return abandoned;
    },
    failNext(count) {
      failures = count;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
