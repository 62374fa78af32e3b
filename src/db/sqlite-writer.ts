import { Worker } from 'node:worker_threads';

/** A statement for the writer: SQL with positional `?` placeholders and its values, in order. */
export interface WriterStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}
export interface WriterFailure {
  readonly message: string;
  readonly code: string | undefined;
}
export interface WriterRequest {
  readonly id: number;
  readonly writes: readonly WriterStatement[];
  /** Reads to answer at once, each alone (then `writes` is empty). */
  readonly reads?: readonly WriterStatement[];
  readonly close?: boolean;
}
export type ReadOutcome = { readonly row: Record<string, unknown> | null } | { readonly error: WriterFailure };
export interface WriterReply {
  readonly id: number;
  /** For a request of reads: each read's row (null for none) or failure, in order. */
  readonly rows?: readonly ReadOutcome[];
  /** Per statement: null when it ran. Absent when the whole batch failed. */
  readonly errors?: readonly (WriterFailure | null)[];
  /** The batch as a whole failed (no write lock within the busy timeout, or the commit failed). */
  readonly failed?: WriterFailure;
}

export interface SqliteWriter {
  /**
   * Runs one statement in the next batch; settles after that batch's commit: true when it
   * committed, false when the write lock could not be had within the busy timeout (the caller
   * then writes through Prisma), rejected when the statement or the commit failed.
   */
  write(statement: WriterStatement): Promise<boolean>;
  /**
   * One row by a statement run on the writer's connection, whose page cache its own commits
   * leave warm (for the rows every token request reads). The read starts after the call, even
   * while a batch is in flight. The reads asked for in one turn of the event loop go to the
   * thread in one message; identical reads are coalesced by the caller (shared-reads.ts).
   */
  read(statement: WriterStatement): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

// Compiled, the worker is dist/db/sqlite-writer-worker.js; under the test runner this module is
// src/db/sqlite-writer.ts and Node runs the worker's TypeScript source directly.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './sqlite-writer-worker.ts' : './sqlite-writer-worker.js', import.meta.url);

type Pending = WriterStatement & { resolve(ok: boolean): void; reject(err: unknown): void };
type PendingRead = WriterStatement & { resolve(row: Record<string, unknown> | undefined): void; reject(err: unknown): void };

function toError(failure: WriterFailure): Error {
  return Object.assign(new Error(failure.message), { code: failure.code });
}

/**
 * Group commit off the event loop. The writes asked for while the event loop handled one batch
 * of I/O go to the writer thread together and commit in one transaction, with one fsync; the
 * writes asked for while that commit runs form the next batch. One batch is in flight at a time.
 * The thread starts at the first write; between batches it does not keep the process alive.
 */
export function createSqliteWriter(file: string, timeoutMs: number): SqliteWriter {
  let worker: Worker | undefined;
  let queued: Pending[] = [];
  let inFlight: { id: number; batch: Pending[] } | undefined;
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let scheduled = false;
  let readsQueued: PendingRead[] = [];
  const readsInFlight = new Map<number, PendingRead[]>();
  let readsScheduled = false;

  function failAll(err: unknown): void {
    const batches = [inFlight?.batch ?? [], queued];
    inFlight = undefined;
    queued = [];
    for (const batch of batches) for (const w of batch) w.reject(err);
    const reads = [...readsInFlight.values(), readsQueued];
    readsInFlight.clear();
    readsQueued = [];
    for (const group of reads) for (const r of group) r.reject(err);
  }

  /** A batch or reads in flight: the thread must keep the process alive. */
  const busy = () => inFlight !== undefined || readsInFlight.size > 0;
  /** Nothing in flight and nothing waiting to be sent. */
  const idle = () => !busy() && queued.length === 0 && readsQueued.length === 0;

  function start(): Worker {
    const w = new Worker(WORKER_URL, { workerData: { file, timeoutMs } });
    w.on('message', (reply: WriterReply) => (reply.rows ? settleReads(reply) : settle(reply)));
    w.on('error', (err) => {
      worker = undefined;
      failAll(err);
    });
    w.on('exit', (code) => {
      if (worker !== w) return;
      worker = undefined;
      if (!idle()) failAll(new Error(`the SQLite writer thread ended (code ${code})`));
    });
    return w;
  }

  function flush(): void {
    scheduled = false;
    if (inFlight || queued.length === 0) return;
    const batch = queued;
    queued = [];
    inFlight = { id: nextId++, batch };
    worker ??= start();
    worker.ref();
    const request: WriterRequest = { id: inFlight.id, writes: batch.map(({ text, values }) => ({ text, values })) };
    worker.postMessage(request);
  }

  function settle(reply: WriterReply): void {
    if (!inFlight || reply.id !== inFlight.id) return;
    const { batch } = inFlight;
    inFlight = undefined;
    if (reply.failed) {
      const busy = reply.failed.code?.startsWith('SQLITE_BUSY') === true;
      for (const w of batch) (busy ? w.resolve(false) : w.reject(toError(reply.failed)));
    } else {
      batch.forEach((w, i) => {
        const failure = reply.errors?.[i];
        if (failure) w.reject(toError(failure));
        else w.resolve(true);
      });
    }
    if (queued.length > 0) flush();
    else if (!busy()) worker?.unref();
  }

  function flushReads(): void {
    readsScheduled = false;
    if (readsQueued.length === 0) return;
    const group = readsQueued;
    readsQueued = [];
    const id = nextId++;
    readsInFlight.set(id, group);
    worker ??= start();
    worker.ref();
    worker.postMessage({ id, writes: [], reads: group.map(({ text, values }) => ({ text, values })) } satisfies WriterRequest);
  }

  function settleReads(reply: WriterReply): void {
    const group = readsInFlight.get(reply.id);
    if (!group) return;
    readsInFlight.delete(reply.id);
    group.forEach((r, i) => {
      const outcome = reply.rows![i]!;
      if ('error' in outcome) r.reject(toError(outcome.error));
      else r.resolve(outcome.row ?? undefined);
    });
    if (!busy()) worker?.unref();
  }

  return {
    write(statement) {
      if (closing) return Promise.reject(new Error('the SQLite writer is closed'));
      return new Promise<boolean>((resolve, reject) => {
        queued.push({ ...statement, resolve, reject });
        if (!scheduled && !inFlight) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    read(statement) {
      if (closing) return Promise.reject(new Error('the SQLite writer is closed'));
      return new Promise((resolve, reject) => {
        readsQueued.push({ ...statement, resolve, reject });
        if (!readsScheduled) {
          readsScheduled = true;
          setImmediate(flushReads);
        }
      });
    },
    close() {
      closing ??= (async () => {
        while (!idle()) {
          if (!inFlight) flush();
          await new Promise((r) => setTimeout(r, 5));
        }
        const w = worker;
        worker = undefined;
        if (!w) return;
        await new Promise<void>((resolve) => {
          w.once('exit', () => resolve());
          // An idle thread is unref'd; waiting for its exit must keep the process alive.
          w.ref();
          w.postMessage({ id: 0, writes: [], close: true } satisfies WriterRequest);
        });
      })();
      return closing;
    },
  };
}
