import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";

/**
 * The Slack work under way — every listener from the request's arrival to its last Web API call, after
 * its acknowledgement too — so that a shutdown lets it finish instead of cutting off a share that the
 * person was already told is on its way.
 */
export class WorkInFlight {
  private readonly running = new Set<Promise<unknown>>();
  private readonly overdueController = new AbortController();

  /** Aborted when a shutdown's grace period runs out: work still running stops where it safely can, and says so. */
  get overdue(): AbortSignal {
    return this.overdueController.signal;
  }

  get size(): number {
    return this.running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  /** Bolt's global middleware: the listeners run inside `next()`. */
  readonly middleware: Middleware<AnyMiddlewareArgs> = async ({ next }) => {
    await this.track(next());
  };

  /**
   * Waits up to `graceMs` for the work under way (and work that starts meanwhile); then marks what is
   * left overdue and waits up to `finalMs` more for it to tell the people waiting. Resolves with how
   * much work was still running at the end.
   */
  async settle(graceMs: number, finalMs: number): Promise<number> {
    if (!(await this.idleWithin(graceMs))) {
      this.overdueController.abort();
      await this.idleWithin(finalMs);
    }
    return this.running.size;
  }

  private async idleWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.running),
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }
}
