import pg from 'pg';

import type { Db, DatabaseKind } from '../db/client.js';
import type { Logger } from '../log.js';
import { REVOCATION_CHANNEL, type RevocationLog } from '../revocation/revocation-log.js';

/**
 * "Something was appended to the revocation log or queued for a stream": wakes long polls and
 * delivery workers, whichever process committed it.
 * - This process: the revocation log's own signal after each commit.
 * - PostgreSQL: LISTEN on the channel every revocation NOTIFYs at commit (other instances, the CLI).
 * - SQLite: the CLI is another process on the same file; while someone waits with
 *   `urgent` (a held long poll), the log's highest `seq` is read every `sqlitePollMs` (one
 *   primary-key read) and a change wakes everyone. Delivery workers are not urgent: their own
 *   timer finds what the CLI queued within a second.
 * Nothing is opened until the first listener subscribes: the CLI, which builds the same
 * services, never holds a LISTEN connection.
 */
export interface Wakeups {
  onChange(listener: () => void, options?: { urgent?: boolean }): () => void;
  close(): Promise<void>;
}

export function createWakeups(deps: {
  db: Db;
  kind: DatabaseKind;
  databaseUrl: string;
  log: RevocationLog;
  logger: Logger;
  sqlitePollMs?: number;
}): Wakeups {
  const listeners = new Set<() => void>();
  let urgent = 0;
  let started = false;
  const wake = (): void => {
    for (const listener of [...listeners]) listener();
  };
  const unsubscribe = deps.log.onCommitted(wake);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let pgClient: pg.Client | undefined;

  function startSqlite(): void {
    let last: number | undefined;
    let reading = false;
    timer = setInterval(() => {
      // `last` survives idle spells: a change made meanwhile wakes the next waiter (at worst
      // for nothing: it reads, finds nothing, and waits again), never goes unnoticed.
      if (reading || (urgent === 0 && last !== undefined)) return;
      reading = true;
      deps.db.$queryRawUnsafe<{ seq: number | bigint }[]>(`SELECT "seq" FROM "sqlite_sequence" WHERE "name" = 'RevocationEvent'`)
        .then((rows) => {
          const seq = Number(rows[0]?.seq ?? 0);
          if (last !== undefined && seq !== last) wake();
          last = seq;
        })
        .catch(() => undefined)
        .finally(() => {
          reading = false;
        });
    }, deps.sqlitePollMs ?? 50);
    timer.unref();
  }

  function startPostgres(): void {
    const connect = async (attempt: number): Promise<void> => {
      if (closed) return;
      const client = new pg.Client({ connectionString: deps.databaseUrl });
      client.on('notification', wake);
      client.on('error', (err) => {
        deps.logger.warn({ event: 'ssf.listen_failed', err: { message: err.message } }, 'revocation NOTIFY listener lost its connection');
        void client.end().catch(() => undefined);
        if (pgClient === client) pgClient = undefined;
        // Whatever was missed meanwhile: wake everyone to re-read.
        wake();
        setTimeout(() => void connect(0), 500).unref();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
        pgClient = client;
        if (closed) await client.end();
        else wake();
      } catch (err) {
        void client.end().catch(() => undefined);
        if (!closed) setTimeout(() => void connect(attempt + 1), Math.min(5000, 250 * 2 ** attempt)).unref();
        if (attempt === 0) deps.logger.warn({ event: 'ssf.listen_failed', err: { message: (err as Error).message } }, 'could not LISTEN for revocations; retrying');
      }
    };
    void connect(0);
  }

  return {
    onChange(listener, options = {}) {
      if (!started && !closed) {
        started = true;
        if (deps.kind === 'sqlite') startSqlite();
        else startPostgres();
      }
      // A listener may subscribe twice (one wake-up ends a wait): each subscription is its own.
      const entry = (): void => listener();
      listeners.add(entry);
      if (options.urgent) urgent += 1;
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        listeners.delete(entry);
        if (options.urgent) urgent -= 1;
      };
    },
    async close() {
      closed = true;
      unsubscribe();
      if (timer) clearInterval(timer);
      await pgClient?.end().catch(() => undefined);
    },
  };
}
