import type { Logger } from '../log.js';
import { MODEL_NAMES, modelTable } from '../oidc/model-tables.js';
import type { Db } from './client.js';

export interface Sweeper {
  /** Deletes expired rows, at most `batchSize` per table per round, until none are left. */
  sweepOnce(): Promise<number>;
  start(intervalSeconds: number): void;
  stop(): Promise<void>;
}

/**
 * Expired rows are deleted in bounded batches (select ids, delete those ids) so a sweep never
 * holds a long lock. Expired rows are already invisible: the adapter checks `expiresAt` on read.
 * The select walks the `expiresAt` index in order (oldest first), so each batch starts where
 * expired rows are, whatever the planner would otherwise choose.
 */
export function createSweeper(
  db: Db,
  options: {
    batchSize: number;
    log: Logger;
    maxRounds?: number;
    onBatch?: (table: string, deleted: number, ms: number) => void;
    /** More sweeps of this round (the revocation log, idle SSF streams), each returning rows deleted. */
    also?: readonly ((now: Date) => Promise<number>)[];
  },
): Sweeper {
  const { batchSize, log, maxRounds = 100, onBatch, also = [] } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function sweepTable(table: string, find: () => Promise<{ id: string }[]>, remove: (ids: string[]) => Promise<{ count: number }>): Promise<number> {
    let total = 0;
    for (let round = 0; round < maxRounds; round += 1) {
      const ids = (await find()).map((row) => row.id);
      if (ids.length === 0) break;
      const started = performance.now();
      const { count } = await remove(ids);
      onBatch?.(table, count, performance.now() - started);
      total += count;
      if (ids.length < batchSize) break;
    }
    return total;
  }

  async function sweepOnce(): Promise<number> {
    const now = new Date();
    let total = 0;
    for (const name of MODEL_NAMES) {
      const table = modelTable(db, name);
      total += await sweepTable(
        name,
        () => table.findMany({ where: { expiresAt: { lt: now } }, orderBy: { expiresAt: 'asc' }, select: { id: true }, take: batchSize }),
        (ids) => table.deleteMany({ where: { id: { in: ids } } }),
      );
    }
    total += await sweepTable(
      'JwtAccessToken',
      () => db.jwtAccessToken.findMany({ where: { expiresAt: { lt: now } }, orderBy: { expiresAt: 'asc' }, select: { id: true }, take: batchSize }),
      (ids) => db.jwtAccessToken.deleteMany({ where: { id: { in: ids } } }),
    );
    for (const sweep of also) total += await sweep(now);
    return total;
  }

  return {
    sweepOnce,
    start(intervalSeconds) {
      timer = setInterval(() => {
        if (running) return;
        running = sweepOnce()
          .then((count) => {
            if (count > 0) log.debug({ event: 'sweep', deleted: count }, 'expired rows deleted');
            return count;
          })
          .catch((err: Error) => {
            log.warn({ event: 'sweep.failed', err: { message: err.message } }, 'sweep failed');
            return 0;
          })
          .finally(() => {
            running = undefined;
          });
      }, intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
