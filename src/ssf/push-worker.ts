import type { Db } from '../db/client.js';
import { nextDelayMs } from '../delivery/backoff.js';
import { postOutbound } from '../delivery/outbound.js';
import { forEachConcurrently } from '../delivery/pool.js';
import { createWorkerLoop, DELIVERY_LEASE_MS, DELIVERY_TICK_MS, type DeliveryWorker, type Wakeups } from '../delivery/worker-loop.js';
import type { Logger } from '../log.js';
import type { LogRow, SetSigner } from './sets.js';

export type PushWorker = DeliveryWorker;

/** Rows a round reads, and sends at once. */
const BATCH = 64;
const CONCURRENCY = 16;
const LEASE_MS = DELIVERY_LEASE_MS;
const TICK_MS = DELIVERY_TICK_MS;
const BACKOFF = { baseMs: 500, maxMs: 60_000 };
/** A verification SET is worth sending for an hour; log entries until their `validUntil`. */
const VERIFICATION_LIFETIME_MS = 3_600_000;
const SET_CONTENT_TYPE = 'application/secevent+jwt';

interface DueRow {
  readonly streamId: string;
  readonly jti: string;
  readonly seq: number | null;
  readonly verifyState: string | null;
  readonly attempts: number;
  readonly createdAt: Date;
}

interface PushStream {
  readonly id: string;
  readonly clientId: string;
  readonly pushEndpoint: string | null;
  readonly pushAuthorization: string | null;
}

/** RFC 8935 §2.3: a 400 carries `{err, description}`; receiver-supplied, so kept short. */
function rejection(body: string): { err?: string; description?: string } {
  try {
    const parsed = JSON.parse(body) as { err?: unknown; description?: unknown };
    return {
      ...(typeof parsed.err === 'string' ? { err: parsed.err.slice(0, 100) } : {}),
      ...(typeof parsed.description === 'string' ? { description: parsed.description.slice(0, 300) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * SSF push delivery (RFC 8935). Sends the due SsfDelivery rows of enabled push streams, oldest
 * first, 16 at a time; rows of paused streams wait. Each row is claimed first (a conditional
 * UPDATE pushing `nextAttemptAt` a lease ahead), so instances sharing the database never send
 * the same row at once. 202 (or 200) → delivered; 400 → the receiver rejected the SET for good
 * (§2.3), dropped with a warning; anything else → retried with backoff until the entry's
 * `validUntil` (a verification SET: an hour), then dropped with a warning. Runs outside every
 * revocation's transaction: a slow or failing receiver never delays or fails a revocation.
 * Never logs a SET or the stream's Authorization header.
 */
export function createPushWorker(deps: {
  db: Db;
  signer: Pick<SetSigner, 'forEntry' | 'verification'>;
  allowPrivate: boolean;
  log: Logger;
  wakeups: Wakeups;
  now?: () => Date;
}): PushWorker {
  const { db, signer, log } = deps;
  const clock = deps.now ?? (() => new Date());
  const where = (row: DueRow) => ({ streamId: row.streamId, jti: row.jti });
  const remove = (row: DueRow) => db.ssfDelivery.deleteMany({ where: where(row) });

  async function claim(row: DueRow): Promise<boolean> {
    const now = clock();
    const { count } = await db.ssfDelivery.updateMany({
      where: { ...where(row), nextAttemptAt: { lte: now } },
      data: { nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
    });
    return count === 1;
  }

  async function retry(row: DueRow, deadline: Date, problem: string): Promise<void> {
    const attempts = row.attempts + 1;
    const next = new Date(clock().getTime() + nextDelayMs(attempts, BACKOFF));
    const context = { streamId: row.streamId, jti: row.jti, attempts, problem };
    if (next > deadline) {
      await remove(row);
      log.warn({ event: 'ssf.push.gave_up', ...context }, 'SET not delivered before it expired; dropped');
      return;
    }
    await db.ssfDelivery.updateMany({ where: where(row), data: { attempts, nextAttemptAt: next } });
    log.info({ event: 'ssf.push.retry', ...context, retryAt: next.toISOString() }, 'SET delivery failed; will retry');
  }

  async function deliver(row: DueRow, stream: PushStream, entry: LogRow | undefined): Promise<void> {
    if (!(await claim(row))) return; // another instance has it
    if (row.seq !== null && !entry) {
      await remove(row); // the entry was swept: nothing it revoked can still be valid
      return;
    }
    const deadline = entry ? entry.validUntil : new Date(row.createdAt.getTime() + VERIFICATION_LIFETIME_MS);
    if (clock() > deadline) {
      await remove(row);
      log.warn({ event: 'ssf.push.expired', streamId: row.streamId, jti: row.jti, attempts: row.attempts }, 'SET expired before delivery; dropped');
      return;
    }
    const set = entry
      ? await signer.forEntry(entry, stream.clientId, row.jti)
      : await signer.verification(stream.id, stream.clientId, row.jti, row.verifyState);
    if (set === null || !stream.pushEndpoint) {
      await remove(row);
      return;
    }
    let status: number;
    let body: string;
    try {
      ({ status, body } = await postOutbound(stream.pushEndpoint, {
        headers: {
          'content-type': SET_CONTENT_TYPE,
          accept: 'application/json',
          // SSF §6.1.1: the receiver's `authorization_header`, sent as given.
          ...(stream.pushAuthorization ? { authorization: stream.pushAuthorization } : {}),
        },
        body: set,
        allowPrivate: deps.allowPrivate,
      }));
    } catch (err) {
      await retry(row, deadline, (err as Error).message);
      return;
    }
    // RFC 8935 §2.2: 202 Accepted; some receivers answer 200.
    if (status === 202 || status === 200) {
      await remove(row);
      log.debug({ event: 'ssf.push.delivered', streamId: row.streamId, jti: row.jti }, 'SET delivered');
    } else if (status === 400) {
      await remove(row);
      log.warn({ event: 'ssf.push.rejected', streamId: row.streamId, jti: row.jti, ...rejection(body) }, 'receiver rejected a SET; dropped');
    } else {
      await retry(row, deadline, `receiver answered ${status}`);
    }
  }

  async function round(): Promise<boolean> {
    const streams = await db.ssfStream.findMany({
      where: { deliveryMethod: 'push', status: 'enabled' },
      select: { id: true, clientId: true, pushEndpoint: true, pushAuthorization: true },
    });
    if (streams.length === 0) return false;
    const byId = new Map(streams.map((stream) => [stream.id, stream]));
    const due: DueRow[] = await db.ssfDelivery.findMany({
      where: { streamId: { in: [...byId.keys()] }, nextAttemptAt: { lte: clock() } },
      orderBy: [{ nextAttemptAt: 'asc' }, { createdAt: 'asc' }],
      select: { streamId: true, jti: true, seq: true, verifyState: true, attempts: true, createdAt: true },
      take: BATCH,
    });
    if (due.length === 0) return false;
    const seqs = [...new Set(due.map((row) => row.seq).filter((seq): seq is number => seq !== null))];
    const entries = seqs.length === 0 ? [] : await db.revocationEvent.findMany({ where: { seq: { in: seqs } } });
    const bySeq = new Map<number, LogRow>(entries.map((entry) => [entry.seq, entry]));
    await forEachConcurrently(due, CONCURRENCY, async (row) => {
      try {
        await deliver(row, byId.get(row.streamId)!, row.seq === null ? undefined : bySeq.get(row.seq));
      } catch (err) {
        // A database or signing failure: the lease runs out and the row is tried again.
        log.warn({ event: 'ssf.push.failed', streamId: row.streamId, jti: row.jti, err: { message: (err as Error).message } }, 'SET delivery failed');
      }
    });
    return due.length === BATCH;
  }

  const loop = createWorkerLoop({ name: 'ssf.push', round, intervalMs: TICK_MS, wakeups: deps.wakeups, log });
  return { start: loop.start, stop: loop.stop, runOnce: round };
}
