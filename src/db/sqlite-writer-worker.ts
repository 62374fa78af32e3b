// A worker thread that owns Tessera's SQLite write connection for the token paths. Each message
// is a batch of statements committed in one transaction (one fsync). The commit's fsync, and any
// wait for the write lock, happen here rather than on the event loop.
// This file is self-contained (node: modules and better-sqlite3 only) so that it runs both
// compiled from dist/ and, under the test runner, straight from src/ (Node strips the types).
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

import type { WriterFailure, WriterReply, WriterRequest } from './sqlite-writer.js';

interface Statement {
  run(...values: unknown[]): unknown;
}
interface Connection {
  prepare(text: string): Statement;
  pragma(text: string): unknown;
  close(): void;
}

const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { timeout: number; fileMustExist: boolean }) => Connection;
const { file, timeoutMs } = workerData as { file: string; timeoutMs: number };
const db = new Sqlite(file, { timeout: timeoutMs, fileMustExist: true });
// Every commit durable, as on every connection Tessera opens (see openSqlite in fast-reads.ts).
db.pragma('synchronous = FULL');

const statements = new Map<string, Statement>();
function run(text: string, values: readonly unknown[] = []): void {
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  statement.run(...values);
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
  reply({ errors });
});
