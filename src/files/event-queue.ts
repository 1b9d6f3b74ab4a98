import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../logger.js";
import { type ObjectEvent, parseObjectEvent } from "../search/object-events.js";

export interface EventQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Applies a batch of events; the messages are deleted once it returns. */
  readonly apply: (events: readonly ObjectEvent[]) => void;
  readonly logger?: Pick<Logger, "info" | "warn">;
  /** Long polling: how long one receive waits for a message. SQS allows at most 20 s. Default 20. */
  readonly waitSeconds?: number;
  /** Pause after a failed receive or delete. Default 5 s. */
  readonly retryDelayMs?: number;
}

/** A pause that a stop cuts short. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Reads a message's EventBridge event, or says why not. */
function eventOf(message: Message): ObjectEvent | string {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? "");
  } catch {
    return "the body is not JSON";
  }
  const parsed = parseObjectEvent(body);
  return parsed.ok ? parsed.event : parsed.reason;
}

/**
 * Reads S3's object events from an SQS queue that an EventBridge rule fills, for processes that run
 * on (containers, servers). Messages are deleted in one batch after their events are applied, so a
 * crash in between only repeats events, which the sequencer makes harmless. A message that holds no
 * S3 object event is left: after the queue's receive limit SQS moves it to the dead-letter queue.
 */
export class EventQueueReader {
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: EventQueueOptions) {}

  start(): void {
    if (this.loop || this.controller.signal.aborted) return;
    this.options.logger?.info("reading S3 object events from the index queue");
    this.loop = this.run();
  }

  /** Ends the receive under way at once; messages received but not deleted come back later. */
  async stop(): Promise<void> {
    this.controller.abort(new Error("The index queue reader was stopped."));
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        await this.once(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.options.logger?.warn(
          { err: error },
          "could not read the index queue; new and deleted files wait for the next try or listing",
        );
        await pause(this.options.retryDelayMs ?? 5_000, signal);
      }
    }
  }

  /** One receive, apply and delete. */
  async once(signal: AbortSignal = this.controller.signal): Promise<void> {
    const { client, queueUrl } = this.options;
    const received = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: this.options.waitSeconds ?? 20,
      }),
      { abortSignal: signal },
    );
    const messages = received.Messages ?? [];
    const events: ObjectEvent[] = [];
    const done: Message[] = [];
    for (const message of messages) {
      const event = eventOf(message);
      if (typeof event === "string") {
        this.options.logger?.warn(
          { messageId: message.MessageId, reason: event },
          "a message on the index queue holds no S3 object event; it is left for the dead-letter queue",
        );
      } else {
        events.push(event);
        done.push(message);
      }
    }
    if (events.length > 0) this.options.apply(events);
    if (done.length === 0) return;
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
      }),
      { abortSignal: signal },
    );
    if (deleted.Failed && deleted.Failed.length > 0) {
      this.options.logger?.warn(
        { failed: deleted.Failed.map((entry) => entry.Code) },
        "some index queue messages were not deleted; they will be read again, to no effect",
      );
    }
  }
}
