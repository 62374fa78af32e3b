import type { Context, Middleware, Next } from 'koa';

/**
 * Counts requests still being handled, so that shutdown closes the database only after the last
 * one finished. A request can outlive its connection (the client hung up while its handler was
 * still at work), so "the server closed all connections" does not mean "no handler runs".
 */
export interface InFlight {
  readonly middleware: Middleware;
  readonly count: () => number;
  /** Resolves when no request is in flight, or after `timeoutMs` (then false). */
  drained(timeoutMs: number): Promise<boolean>;
}

export function createInFlight(): InFlight {
  let count = 0;
  let waiters: (() => void)[] = [];
  return {
    middleware: async (_ctx: Context, next: Next) => {
      count += 1;
      try {
        await next();
      } finally {
        count -= 1;
        if (count === 0) for (const wake of waiters.splice(0)) wake();
      }
    },
    count: () => count,
    drained(timeoutMs) {
      if (count === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        timer.unref();
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.push(done);
      });
    },
  };
}
