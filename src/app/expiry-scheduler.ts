import type { LifeDependencies } from "../domain/use-cases/dependencies.js";
import { expireDueShares } from "../domain/use-cases/expire-shares.js";
import { remindExpiringAnnouncements } from "../domain/use-cases/remind-announcements.js";
import type { Logger } from "../logger.js";

export interface ExpiryScheduler {
  /**
   * Runs one pass now (the scheduler's own passes never overlap with it) and answers how many shares
   * it marked expired; rejects when the ledger could not be asked, once both steps were tried.
   */
  runNow(keepGoing?: () => boolean): Promise<number>;
  stop(): Promise<void>;
}

export interface ExpirySchedulerOptions {
  readonly intervalMs: number;
  /** How long before an announcement's links expire its sharer is reminded; undefined: never. */
  readonly reminderWindowMs?: number | undefined;
  /**
   * Pass once at start and then every `intervalMs` (default). Off where nothing runs between requests
   * (AWS Lambda): there a schedule calls `runNow`.
   */
  readonly timer?: boolean;
  /** Tells sharers who opened their members-only links (batched: see `tellOpens`); answers notices sent. */
  readonly tellOpens?: (keepGoing: () => boolean) => Promise<number>;
}

/**
 * Updates the messages of expired links, and reminds announcements' sharers before theirs expire, once
 * at start (catching up on what fell due while the process was down: the work is derived from the
 * ledger, not kept in memory) and then every `intervalMs`.
 */
export function startExpiryScheduler(
  deps: LifeDependencies,
  options: ExpirySchedulerOptions,
  logger: Logger,
): ExpiryScheduler {
  let running: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const work = async (keepGoing: () => boolean): Promise<number> => {
    let failure: unknown;
    let expired = 0;
    try {
      expired = await expireDueShares(
        deps,
        (share, error) =>
          logger.warn({ err: error, share: share.id }, "could not update an expired share's message"),
        keepGoing,
      );
      if (expired > 0) logger.info({ event: "expire", count: expired }, "marked shares expired");
    } catch (error) {
      failure = error;
      logger.warn({ err: error }, "could not look for expired shares; trying again later");
    }
    if (options.reminderWindowMs !== undefined) {
      try {
        const reminded = await remindExpiringAnnouncements(
          deps,
          options.reminderWindowMs,
          (share, error) =>
            logger.warn(
              { err: error, share: share.id },
              "could not remind a sharer that an announcement expires soon",
            ),
          keepGoing,
        );
        if (reminded > 0)
          logger.info({ event: "remind", count: reminded }, "reminded sharers of expiring announcements");
      } catch (error) {
        failure ??= error;
        logger.warn({ err: error }, "could not look for announcements to remind; trying again later");
      }
    }
    if (options.tellOpens) {
      try {
        const told = await options.tellOpens(keepGoing);
        if (told > 0)
          logger.info({ event: "tell_opens", count: told }, "told sharers who opened their links");
      } catch (error) {
        failure ??= error;
        logger.warn({ err: error }, "could not look for opens to tell sharers about; trying again later");
      }
    }
    if (failure !== undefined) throw failure;
    return expired;
  };

  const pass = (keepGoing: () => boolean = () => true): Promise<number> => {
    running ??= work(keepGoing).finally(() => {
      running = undefined;
    });
    return running;
  };

  // Failures are logged by the pass itself; the timer just tries again at the next turn.
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pass().then(schedule, schedule);
    }, options.intervalMs);
    timer.unref();
  };
  if (options.timer !== false) void pass().then(schedule, schedule);

  return {
    runNow: (keepGoing) => pass(keepGoing),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
