import { Worker } from 'node:worker_threads';

/** A statement for the writer: SQL with positional `?` placeholders and its values, in order. */
export interface WriterStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * The messages between the event loop and the writer thread are flat arrays of primitives:
 * cheaper to copy between threads than objects (whose every key is copied as a string and
 * looked up again on arrival), and every statement travels as a number. The thread learns each
 * statement's text once, from a DEFINE message posted before its first use (messages on a port
 * keep their order).
 *
 * To the thread:
 * - `[DEFINE, statement, text, isRead]`
 * - `[WRITES, id, (statement, count, ...values)*]`: one batch, one transaction
 * - `[READS, id, (statement, count, ...values)*]`: each read alone, outside any transaction
 * - `[CLOSE]`
 *
 * From the thread:
 * - `[COLUMNS, statement, ...names]`: the columns of a read statement, before any of its rows
 * - `[id]`: a batch committed and synced, every write ran
 * - `[id, STATEMENT_FAILED, (index, message, code)*]`: committed and synced; those writes failed
 * - `[id, BATCH_FAILED, message, code]`: nothing of the batch is acknowledged
 * - `[id, READS_ANSWERED, (NO_ROW | ROW ...values | READ_FAILED message code)*]`
 */
export const WriterMessage = { DEFINE: 0, WRITES: 1, READS: 2, CLOSE: 3, COLUMNS: -1 } as const;
export const WriterAnswer = { STATEMENT_FAILED: 0, BATCH_FAILED: 1, READS_ANSWERED: 2, NO_ROW: 0, ROW: 1, READ_FAILED: 2 } as const;

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

/**
 * The writer thread's niceness (Linux): lower priority than the event loop's. Measured on two
 * busy cores (bench/README.md, eighth round): ES256 client_credentials +5 to +9%.
 */
export const WRITER_NICENESS = 10;

/** A statement waiting for its message, and how to answer its caller. */
type Queued<T> = { readonly statement: number; readonly values: readonly unknown[]; resolve(value: T): void; reject(err: unknown): void };
type Pending = Queued<boolean>;
type PendingRead = Queued<Record<string, unknown> | undefined>;
type Reply = readonly unknown[];

function toError(message: unknown, code: unknown): Error {
  return Object.assign(new Error(String(message)), { code: typeof code === 'string' ? code : undefined });
}

/** `[prefix..., (statement, count, ...values)*]` for a list of statements. */
function encode(prefix: unknown[], items: readonly Queued<never>[]): unknown[] {
  for (const { statement, values } of items) {
    prefix.push(statement, values.length);
    for (const v of values) prefix.push(v);
  }
  return prefix;
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
  // Statement numbers, per text and kind; a new thread learns them all again.
  const writeStatements = new Map<string, number>();
  const readStatements = new Map<string, number>();
  const texts: { text: string; isRead: boolean }[] = [];
  const columns: (readonly string[] | undefined)[] = [];

  function statementOf(text: string, isRead: boolean): number {
    const known = isRead ? readStatements : writeStatements;
    let statement = known.get(text);
    if (statement === undefined) {
      statement = texts.length;
      texts.push({ text, isRead });
      known.set(text, statement);
      worker?.postMessage([WriterMessage.DEFINE, statement, text, isRead]);
    }
    return statement;
  }

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
    const w = new Worker(WORKER_URL, { workerData: { file, timeoutMs, niceness: WRITER_NICENESS } });
    texts.forEach(({ text, isRead }, statement) => w.postMessage([WriterMessage.DEFINE, statement, text, isRead]));
    w.on('message', (reply: Reply) => {
      const head = reply[0] as number;
      if (head === WriterMessage.COLUMNS) columns[reply[1] as number] = reply.slice(2) as string[];
      else if (reply[1] === WriterAnswer.READS_ANSWERED) settleReads(reply);
      else settle(reply);
    });
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
    worker.postMessage(encode([WriterMessage.WRITES, inFlight.id], batch));
  }

  function settle(reply: Reply): void {
    if (!inFlight || reply[0] !== inFlight.id) return;
    const { batch } = inFlight;
    inFlight = undefined;
    if (reply.length === 1) {
      for (const w of batch) w.resolve(true);
    } else if (reply[1] === WriterAnswer.BATCH_FAILED) {
      const busy = typeof reply[3] === 'string' && reply[3].startsWith('SQLITE_BUSY');
      for (const w of batch) (busy ? w.resolve(false) : w.reject(toError(reply[2], reply[3])));
    } else {
      const failed = new Map<number, Error>();
      for (let i = 2; i < reply.length; i += 3) failed.set(reply[i] as number, toError(reply[i + 1], reply[i + 2]));
      batch.forEach((w, i) => {
        const err = failed.get(i);
        if (err) w.reject(err);
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
    worker.postMessage(encode([WriterMessage.READS, id], group));
  }

  function settleReads(reply: Reply): void {
    const id = reply[0] as number;
    const group = readsInFlight.get(id);
    if (!group) return;
    readsInFlight.delete(id);
    let at = 2;
    for (const r of group) {
      const outcome = reply[at++];
      if (outcome === WriterAnswer.NO_ROW) {
        r.resolve(undefined);
      } else if (outcome === WriterAnswer.ROW) {
        const names = columns[r.statement]!;
        const row: Record<string, unknown> = {};
        for (const name of names) row[name] = reply[at++];
        r.resolve(row);
      } else {
        r.reject(toError(reply[at], reply[at + 1]));
        at += 2;
      }
    }
    if (!busy()) worker?.unref();
  }

  return {
    write(statement) {
      if (closing) return Promise.reject(new Error('the SQLite writer is closed'));
      const number = statementOf(statement.text, false);
      return new Promise<boolean>((resolve, reject) => {
        queued.push({ statement: number, values: statement.values, resolve, reject });
        if (!scheduled && !inFlight) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    read(statement) {
      if (closing) return Promise.reject(new Error('the SQLite writer is closed'));
      const number = statementOf(statement.text, true);
      return new Promise((resolve, reject) => {
        readsQueued.push({ statement: number, values: statement.values, resolve, reject });
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
          w.postMessage([WriterMessage.CLOSE]);
        });
      })();
      return closing;
    },
  };
}
