import type { ClientRecord, Clients } from '../clients/clients.js';
import type { Db } from '../db/client.js';
import { nextDelayMs } from '../delivery/backoff.js';
import { postOutbound } from '../delivery/outbound.js';
import { forEachConcurrently } from '../delivery/pool.js';
import { createWorkerLoop, DELIVERY_LEASE_MS, DELIVERY_TICK_MS, type DeliveryWorker, type Wakeups } from '../delivery/worker-loop.js';
import type { Logger } from '../log.js';
import { createLogoutTokenSigner, type IssuerSigningKey } from './logout-token.js';

export type BackchannelWorker = DeliveryWorker;

const BATCH = 64;
const CONCURRENCY = 16;
const LEASE_MS = DELIVERY_LEASE_MS;
const TICK_MS = DELIVERY_TICK_MS;
const BACKOFF = { baseMs: 1000, maxMs: 60_000 };
const MAX_ATTEMPTS = 5;

interface DueRow {
  readonly seq: number;
  readonly attempts: number;
}

interface Entry {
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly sid: string | null;
  readonly validUntil: Date;
}

/**
 * OIDC Back-Channel Logout 1.0: one logout token per BackchannelDelivery row, i.e. per client
 * whose session a revocation ended (logout, sign out everywhere, admin and CLI revocations
 * alike; oidc-provider's own sender is silenced, src/oidc/silence-backchannel.ts). Rows are
 * claimed the way SSF push claims them (a conditional UPDATE of `nextAttemptAt`), so instances
 * never send the same token twice at once. A client without `backchannel_logout_uri`, disabled
 * or deleted gets nothing. 200/204 → done (§2.8); anything else, a timeout or a network error →
 * retried with backoff, at most 5 attempts and never past the entry's `validUntil`, then
 * dropped with a warning. Never logs a logout token.
 */
export function createBackchannelWorker(deps: {
  db: Db;
  clients: Pick<Clients, 'find'>;
  signingKey: () => IssuerSigningKey;
  issuer: string;
  allowPrivate: boolean;
  log: Logger;
  wakeups: Wakeups;
  now?: () => Date;
}): BackchannelWorker {
  const { db, log } = deps;
  const clock = deps.now ?? (() => new Date());
  const tokens = createLogoutTokenSigner({ issuer: deps.issuer, signingKey: deps.signingKey, now: clock });
  const remove = (row: DueRow) => db.backchannelDelivery.deleteMany({ where: { seq: row.seq } });

  async function claim(row: DueRow): Promise<boolean> {
    const now = clock();
    const { count } = await db.backchannelDelivery.updateMany({
      where: { seq: row.seq, nextAttemptAt: { lte: now } },
      data: { nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
    });
    return count === 1;
  }

  async function retry(row: DueRow, entry: Entry, problem: string): Promise<void> {
    const attempts = row.attempts + 1;
    const next = new Date(clock().getTime() + nextDelayMs(attempts, BACKOFF));
    const context = { seq: row.seq, clientId: entry.clientId, attempts, problem };
    if (attempts >= MAX_ATTEMPTS || next > entry.validUntil) {
      await remove(row);
      log.warn({ event: 'backchannel.gave_up', ...context }, 'back-channel logout not delivered; dropped');
      return;
    }
    await db.backchannelDelivery.updateMany({ where: { seq: row.seq }, data: { attempts, nextAttemptAt: next } });
    log.info({ event: 'backchannel.retry', ...context, retryAt: next.toISOString() }, 'back-channel logout failed; will retry');
  }

  async function deliver(row: DueRow, entry: Entry | undefined, clientOf: (id: string) => Promise<ClientRecord | null>): Promise<void> {
    if (!(await claim(row))) return; // another instance has it
    if (!entry?.clientId || !entry.accountId) {
      await remove(row);
      return;
    }
    const client = await clientOf(entry.clientId);
    const uri = client?.metadata.backchannel_logout_uri;
    if (!client || client.disabled || typeof uri !== 'string') {
      await remove(row);
      return;
    }
    if (clock() > entry.validUntil) {
      await remove(row);
      log.warn({ event: 'backchannel.expired', seq: row.seq, clientId: entry.clientId, attempts: row.attempts }, 'back-channel logout expired before delivery; dropped');
      return;
    }
    const token = await tokens.sign({ aud: entry.clientId, sub: entry.accountId, sid: entry.sid });
    let status: number;
    try {
      ({ status } = await postOutbound(uri, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        allowPrivate: deps.allowPrivate,
      }));
    } catch (err) {
      await retry(row, entry, (err as Error).message);
      return;
    }
    // Back-Channel Logout 1.0 §2.8: 200 OK on success (204 is accepted too, as oidc-provider does).
    if (status === 200 || status === 204) {
      await remove(row);
      log.info({ event: 'backchannel.delivered', seq: row.seq, clientId: entry.clientId }, 'back-channel logout delivered');
    } else {
      await retry(row, entry, `client answered ${status}`);
    }
  }

  async function round(): Promise<boolean> {
    const due: DueRow[] = await db.backchannelDelivery.findMany({
      where: { nextAttemptAt: { lte: clock() } },
      orderBy: [{ nextAttemptAt: 'asc' }, { seq: 'asc' }],
      select: { seq: true, attempts: true },
      take: BATCH,
    });
    if (due.length === 0) return false;
    const entries = await db.revocationEvent.findMany({
      where: { seq: { in: due.map((row) => row.seq) } },
      select: { seq: true, accountId: true, clientId: true, sid: true, validUntil: true },
    });
    const bySeq = new Map(entries.map((entry) => [entry.seq, entry]));
    // One read per client per round, however many of its sessions ended.
    const clients = new Map<string, Promise<ClientRecord | null>>();
    const clientOf = (id: string): Promise<ClientRecord | null> => {
      let found = clients.get(id);
      if (!found) {
        found = deps.clients.find(id);
        clients.set(id, found);
      }
      return found;
    };
    await forEachConcurrently(due, CONCURRENCY, async (row) => {
      try {
        await deliver(row, bySeq.get(row.seq), clientOf);
      } catch (err) {
        // A database or signing failure: the lease runs out and the row is tried again.
        log.warn({ event: 'backchannel.failed', seq: row.seq, err: { message: (err as Error).message } }, 'back-channel logout failed');
      }
    });
    return due.length === BATCH;
  }

  const loop = createWorkerLoop({ name: 'backchannel', round, intervalMs: TICK_MS, wakeups: deps.wakeups, log });
  return { start: loop.start, stop: loop.stop, runOnce: round };
}
