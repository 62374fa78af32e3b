import type { Logger } from '../log.js';

/** Something that says "there may be new work" (revocation commits, in this or another process). */
export interface Wakeups {
  onChange(listener: () => void): () => void;
}

/** A delivery worker (SSF push, back-channel logout), as the composition root drives it. */
export interface DeliveryWorker {
  start(): void;
  /** Stops, after the round in flight (if any) has finished. */
  stop(): Promise<void>;
  /** One round now (tests, and the loop); true when more rows were due than one round takes. */
  runOnce(): Promise<boolean>;
}

/** How long a claimed row stays claimed: far beyond an outbound request's 5 s limit. */
export const DELIVERY_LEASE_MS = 30_000;
/** How often a worker looks for retries that became due. */
export const DELIVERY_TICK_MS = 1000;

export interface WorkerLoop {
  /** Runs rounds when woken and every `intervalMs` (for retries that became due). */
  start(): void;
  /** Stops waking, and resolves once the round in flight (if any) has finished. */
  stop(): Promise<void>;
  /** Asks for a round now (one more runs if a round is already under way). */
  kick(): void;
}

/**
 * The loop both delivery workers share: one round at a time per process, another one right
 * after when woken meanwhile or when the round says more work is waiting (a full batch). A
 * failing round is logged and retried at the next tick; it never throws to the caller.
 */
export function createWorkerLoop(deps: {
  name: string;
  /** One round; true when more work is due right away. */
  round: () => Promise<boolean>;
  intervalMs: number;
  wakeups: Wakeups;
  log: Logger;
}): WorkerLoop {
  const { name, round, intervalMs, wakeups, log } = deps;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function loop(): Promise<void> {
    do {
      again = false;
      try {
        if (await round()) again = true;
      } catch (err) {
        log.warn({ event: `${name}.round_failed`, err: { message: (err as Error).message } }, `${name} round failed`);
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = undefined;
    });
  }

  return {
    kick,
    start() {
      if (!stopped) return;
      stopped = false;
      unsubscribe = wakeups.onChange(kick);
      timer = setInterval(kick, intervalMs);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
      await running;
    },
  };
}
