import type { Db } from '../db/client.js';

export type StatKind = 'issued' | 'revoked';

export interface MinuteCounts {
  readonly minute: Date;
  readonly issued: number;
  readonly revoked: number;
}

/**
 * Tokens issued and revoked per minute, for the dashboard. Issuance is the hot path, so each
 * instance counts in memory and adds its counts to the shared minute rows every few seconds
 * (one upsert per minute and kind, not one write per token). Revocations are rare and are
 * counted inside the revocation's own transaction (`revokedOp`).
 */
export interface TokenStats {
  issued(count?: number): void;
  /** The write that adds `count` revoked tokens to the current minute, for a transaction. */
  revokedOp(db: Db, count: number): Promise<unknown>;
  /** The last `minutes` minutes, oldest first, including minutes with nothing. */
  series(minutes: number): Promise<MinuteCounts[]>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const MINUTE = 60_000;
const minuteOf = (ms: number): Date => new Date(Math.floor(ms / MINUTE) * MINUTE);

function addOp(db: Db, minute: Date, kind: StatKind, count: number) {
  return db.tokenStat.upsert({
    where: { minute_kind: { minute, kind } },
    create: { minute, kind, count },
    update: { count: { increment: count } },
  });
}

export function createTokenStats(db: Db, options: { flushIntervalMs: number; onError: (err: unknown) => void }): TokenStats {
  const pending = new Map<number, number>(); // minute (ms) -> issued count
  let flushing: Promise<void> = Promise.resolve();

  async function flushNow(): Promise<void> {
    const batch = [...pending];
    pending.clear();
    for (const [minute, count] of batch) {
      try {
        await addOp(db, new Date(minute), 'issued', count);
      } catch (err) {
        // Keep the counts for the next flush (the database may be briefly unreachable).
        pending.set(minute, (pending.get(minute) ?? 0) + count);
        options.onError(err);
        return;
      }
    }
  }

  const flush = (): Promise<void> => (flushing = flushing.then(flushNow));
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  return {
    issued(count = 1) {
      const minute = minuteOf(Date.now()).getTime();
      pending.set(minute, (pending.get(minute) ?? 0) + count);
    },

    revokedOp(tx, count) {
      return addOp(tx, minuteOf(Date.now()), 'revoked', count);
    },

    async series(minutes) {
      const now = Date.now();
      const first = minuteOf(now - (minutes - 1) * MINUTE);
      const rows = await db.tokenStat.findMany({ where: { minute: { gte: first } } });
      const byMinute = new Map<number, { issued: number; revoked: number }>();
      for (let m = first.getTime(); m <= now; m += MINUTE) byMinute.set(m, { issued: 0, revoked: 0 });
      for (const row of rows) {
        const slot = byMinute.get(row.minute.getTime());
        if (slot) slot[row.kind as StatKind] += row.count;
      }
      // This instance's not yet flushed issuance counts too, so the figures are live.
      for (const [minute, count] of pending) {
        const slot = byMinute.get(minute);
        if (slot) slot.issued += count;
      }
      return [...byMinute].map(([minute, c]) => ({ minute: new Date(minute), ...c }));
    },

    flush,

    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
