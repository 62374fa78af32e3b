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
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

// The protocol's numbers (sqlite-writer.ts, WriterMessage and WriterAnswer), repeated here: this
// file imports nothing of Tessera's so that Node can run it from src/ under the test runner.
const DEFINE = 0;
const WRITES = 1;
const READS = 2;
const COLUMNS = -1;
const STATEMENT_FAILED = 0;
const BATCH_FAILED = 1;
const READS_ANSWERED = 2;
const NO_ROW = 0;
const ROW = 1;
const READ_FAILED = 2;

interface Statement {
  run(...values: unknown[]): unknown;
  get(...values: unknown[]): unknown;
  raw(toggle: boolean): Statement;
  columns(): { name: string }[];
}
interface Connection {
  prepare(text: string): Statement;
  pragma(text: string, options?: { simple: boolean }): unknown;
  close(): void;
}

const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { timeout: number; fileMustExist: boolean }) => Connection;
const { file, timeoutMs, niceness } = workerData as { file: string; timeoutMs: number; niceness: number };
// Below the event loop's priority: when the CPUs are all busy, a wake-up of this thread (a
// batch or a read arriving, an fsync done) no longer preempts the event loop, which every
// request needs; the batches waiting meanwhile only grow, and a larger batch costs less per
// row. On Linux a niceness set with pid 0 is the calling thread's alone; elsewhere it would be
// the whole process's, so it is left alone. Raising one's own niceness needs no privilege; a
// refusal (a sandbox) leaves the thread at the process's.
if (process.platform === 'linux' && niceness > 0) {
  try {
    setPriority(0, niceness);
  } catch {
    // as fast, only without the priority
  }
}
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

// Statements by number; a statement that did not prepare keeps its error, reported at each use.
const statements: (Statement | Error)[] = [];
const control = new Map<string, Statement>();
function run(text: string): void {
  let statement = control.get(text);
  if (!statement) {
    statement = db.prepare(text);
    control.set(text, statement);
  }
  statement.run();
}

const failureCode = (err: unknown): string | null => (err as { code?: string }).code ?? null;

const port = parentPort!;

function define(number: number, text: string, isRead: boolean): void {
  try {
    const statement = db.prepare(text);
    if (isRead) {
      // Rows travel as values in column order; the event loop knows the names.
      statement.raw(true);
      port.postMessage([COLUMNS, number, ...statement.columns().map((c) => c.name)]);
    }
    statements[number] = statement;
  } catch (err) {
    statements[number] = err as Error;
  }
}

/** Visits the `(statement, count, ...values)*` that follow a request's kind and id, in order. */
function eachStatement(request: readonly unknown[], visit: (statement: Statement | Error, values: unknown[], index: number) => void): void {
  for (let at = 2, index = 0; at < request.length; index += 1) {
    const count = request[at + 1] as number;
    visit(statements[request[at] as number]!, request.slice(at + 2, at + 2 + count), index);
    at += 2 + count;
  }
}

/** Each read alone, outside any transaction: it sees every commit made so far. */
function answerReads(request: readonly unknown[]): void {
  const reply: unknown[] = [request[1], READS_ANSWERED];
  eachStatement(request, (statement, values) => {
    try {
      if (statement instanceof Error) throw statement;
      const row = statement.get(...values) as unknown[] | undefined;
      if (row === undefined) reply.push(NO_ROW);
      else reply.push(ROW, ...row);
    } catch (err) {
      reply.push(READ_FAILED, (err as Error).message, failureCode(err));
    }
  });
  port.postMessage(reply);
}

function commitWrites(request: readonly unknown[]): void {
  const id = request[1];
  const batchFailed = (err: unknown) => port.postMessage([id, BATCH_FAILED, (err as Error).message, failureCode(err)]);
  try {
    // Waits (up to the busy timeout) while a transaction of another connection holds the lock.
    run('BEGIN IMMEDIATE');
  } catch (err) {
    batchFailed(err);
    return;
  }
  // A statement that fails fails alone: SQLite undoes that statement and keeps the transaction.
  const reply: unknown[] = [id];
  eachStatement(request, (statement, values, index) => {
    try {
      if (statement instanceof Error) throw statement;
      statement.run(...values);
    } catch (err) {
      if (reply.length === 1) reply.push(STATEMENT_FAILED);
      reply.push(index, (err as Error).message, failureCode(err));
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
    batchFailed(err);
    return;
  }
  syncWal((err) => {
    // Committed but not known to be on disk: no write of the batch may be acknowledged.
    if (err) batchFailed(err);
    else port.postMessage(reply);
  });
}

port.on('message', (request: readonly unknown[]) => {
  switch (request[0]) {
    case DEFINE:
      define(request[1] as number, request[2] as string, request[3] as boolean);
      return;
    case READS:
      answerReads(request);
      return;
    case WRITES:
      commitWrites(request);
      return;
    default:
      db.close();
      port.close();
  }
});
