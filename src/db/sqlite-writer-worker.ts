// A worker thread that owns Tessera's SQLite write connection for the token paths. Each message
// is a batch of statements committed in one transaction, made durable by one fsync before the
// batch is answered. The fsync, and any wait for the write lock, happen here rather than on the
// event loop.
//
// The fsync comes after the commit has released the write lock: the connection commits with
// synchronous=NORMAL (in WAL mode: frames written, not yet synced), then the WAL file itself is
// synced. Nothing is acknowledged before that sync, so an answered write is as durable as with
// synchronous=FULL, while the lock is held for the writes only. Prisma's connection, on the
// event loop, would otherwise find the lock taken for the length of an fsync and sleep in
// SQLite's busy handler, blocking the event loop.
//
// The thread also answers reads of the rows every token request wants (its client, its API).
// This connection's page cache stays valid across its own commits, while any other connection
// finds the database changed at each read and starts from an empty cache (bench/README.md). The
// WAL sync runs on the thread's I/O pool, so such reads are answered while a batch syncs.
// This file is self-contained (node: modules and better-sqlite3 only) so that it runs both
// compiled from dist/ and, under the test runner, straight from src/ (Node strips the types).
import { close, fdatasync, open } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

import type { WriterFailure, WriterReply, WriterRequest } from './sqlite-writer.js';

interface Statement {
  run(...values: unknown[]): unknown;
  get(...values: unknown[]): unknown;
}
interface Connection {
  prepare(text: string): Statement;
  pragma(text: string, options?: { simple: boolean }): unknown;
  close(): void;
}

const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { timeout: number; fileMustExist: boolean }) => Connection;
const { file, timeoutMs } = workerData as { file: string; timeoutMs: number };
const db = new Sqlite(file, { timeout: timeoutMs, fileMustExist: true });
// In WAL mode the WAL is synced below, after each commit; a database in another journal mode
// (never the server's) keeps synchronous=FULL, every commit synced by SQLite itself.
const walMode = db.pragma('journal_mode', { simple: true }) === 'wal';
db.pragma(walMode ? 'synchronous = NORMAL' : 'synchronous = FULL');
const wal = `${file}-wal`;

/** Syncs the WAL file (the commits written so far) to the disk, off this thread's loop. */
function syncWal(done: (err: NodeJS.ErrnoException | null) => void): void {
  if (!walMode) return done(null);
  // Opened each time: SQLite may truncate or recreate the file between batches.
  open(wal, 'r+', (openErr, fd) => {
    if (openErr) return done(openErr);
    fdatasync(fd, (syncErr) => close(fd, (closeErr) => done(syncErr ?? closeErr)));
  });
}

const statements = new Map<string, Statement>();
function prepared(text: string): Statement {
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  return statement;
}
function run(text: string, values: readonly unknown[] = []): void {
  prepared(text).run(...values);
}

const failure = (err: unknown): WriterFailure => ({ message: (err as Error).message, code: (err as { code?: string }).code });

const port = parentPort!;
port.on('message', (request: WriterRequest) => {
  if (request.close) {
    db.close();
    port.close();
    return;
  }
  const reply = (body: Omit<WriterReply, 'id'>) => port.postMessage({ id: request.id, ...body });
  if (request.reads) {
    // Each read alone, outside any transaction: it sees every commit made so far.
    const rows = request.reads.map(({ text, values }) => {
      try {
        return { row: (prepared(text).get(...values) as Record<string, unknown> | undefined) ?? null };
      } catch (err) {
        return { error: failure(err) };
      }
    });
    reply({ rows });
    return;
  }
  try {
    // Waits (up to the busy timeout) while a transaction of another connection holds the lock.
    run('BEGIN IMMEDIATE');
  } catch (err) {
    reply({ failed: failure(err) });
    return;
  }
  // A statement that fails fails alone: SQLite undoes that statement and keeps the transaction.
  const errors = request.writes.map(({ text, values }) => {
    try {
      run(text, values);
      return null;
    } catch (err) {
      return failure(err);
    }
  });
  try {
    run('COMMIT');
  } catch (err) {
    try {
      run('ROLLBACK');
    } catch {
      // the transaction is already gone
    }
    reply({ failed: failure(err) });
    return;
  }
  syncWal((err) => {
    // Committed but not known to be on disk: no write of the batch may be acknowledged.
    if (err) reply({ failed: failure(err) });
    else reply({ errors });
  });
});
