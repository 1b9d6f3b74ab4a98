import { expireDueShares, type LifeDependencies, remindExpiringAnnouncements } from "./domain/share-life.js";
import type { Logger } from "./logger.js";

export interface ExpiryScheduler {
  /** Runs one pass now (the scheduler's own passes never overlap with it). */
  runNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Updates the messages of expired links, and reminds announcements' sharers `reminderWindowMs` before
 * theirs expire, once at start (catching up on what fell due while the process was down: the work is
 * derived from the ledger, not kept in memory) and then every `intervalMs`.
 */
export function startExpiryScheduler(
  deps: LifeDependencies,
  intervalMs: number,
  logger: Logger,
  reminderWindowMs?: number,
): ExpiryScheduler {
  let running: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const pass = (): Promise<number> => {
    running ??= expireDueShares(deps, (share, error) =>
      logger.warn({ err: error, share: share.id }, "could not update an expired share's message"),
    )
      .then(async (count) => {
        if (count > 0) logger.info({ event: "expire", count }, "marked shares expired");
        if (reminderWindowMs !== undefined) {
          const reminded = await remindExpiringAnnouncements(deps, reminderWindowMs, (share, error) =>
            logger.warn(
              { err: error, share: share.id },
              "could not remind a sharer that an announcement expires soon",
            ),
          );
          if (reminded > 0)
            logger.info({ event: "remind", count: reminded }, "reminded sharers of expiring announcements");
        }
        return count;
      })
      .catch((error: unknown) => {
        logger.warn({ err: error }, "could not look for expired shares; trying again later");
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pass().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  void pass().then(schedule);

  return {
    runNow: pass,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
