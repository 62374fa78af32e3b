/** One write for PostgreSQL: SQL with `$n` placeholders and its values. */
export interface PgWrite {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** Runs one statement in its own transaction (autocommit) on some pooled connection. */
export type PgRun = (sql: string, params: readonly unknown[], prepared: boolean) => Promise<unknown>;

export interface PostgresWriter {
  /** Runs the write in the next batch; settles once it has committed (or failed, alone). */
  write(sql: string, params: readonly unknown[]): Promise<void>;
  /** Waits for every write asked for so far; later writes are refused. */
  close(): Promise<void>;
}

/** A statement of a batch and the writes whose rows it carries. */
export interface MergedStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
  /** How many writes (consecutive, from the batch's order) this statement carries. */
  readonly count: number;
  /** Worth a named prepared statement: its text recurs (a single write, or a merge of few rows). */
  readonly prepared: boolean;
}

// Parameters per statement are capped by the protocol at 65535; stay well below.
const MAX_PARAMS = 30_000;
const MAX_BATCH = 512;

interface InsertShape {
  /** Everything up to and including `VALUES ` */
  readonly head: string;
  /** Whatever follows the row (`ON CONFLICT …`), or '' */
  readonly tail: string;
  readonly width: number;
}

const INSERT = /^(INSERT INTO "[^"]+" \([^)]*\) VALUES )\(([^)]*)\)((?: ON CONFLICT .*)?)$/s;
const shapes = new Map<string, InsertShape | null>();

/**
 * The shape of a single-row `INSERT … VALUES ($1, …, $n) [ON CONFLICT …]` whose placeholders
 * are $1…$n in order, or null: only such statements are merged into one multi-row statement.
 */
export function insertShape(sql: string): InsertShape | null {
  let shape = shapes.get(sql);
  if (shape !== undefined) return shape;
  shape = null;
  const m = INSERT.exec(sql);
  if (m) {
    const placeholders = m[2]!.split(',').map((p) => p.trim());
    if (placeholders.every((p, i) => p === `$${i + 1}`) && !/\$\d/.test(m[3]!)) {
      shape = { head: m[1]!, tail: m[3]!, width: placeholders.length };
    }
  }
  if (shapes.size < 1000) shapes.set(sql, shape);
  return shape;
}

// Merged inserts of up to this many rows run as named prepared statements: PostgreSQL parses
// and plans each row count once per connection instead of once per batch.
const PREPARED_ROWS = 64;
const rowsSqlCache = new WeakMap<InsertShape, string[]>();

function rowsSql(shape: InsertShape, rows: number): string {
  let bySize = rowsSqlCache.get(shape);
  const cached = bySize?.[rows];
  if (cached !== undefined) return cached;
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * shape.width;
    values.push(`(${Array.from({ length: shape.width }, (_, i) => `$${base + i + 1}`).join(', ')})`);
  }
  const sql = `${shape.head}${values.join(', ')}${shape.tail}`;
  if (rows <= PREPARED_ROWS) {
    if (!bySize) rowsSqlCache.set(shape, (bySize = []));
    bySize[rows] = sql; // the same string each time: its hash is computed once
  }
  return sql;
}

/**
 * A batch as statements, in order: consecutive single-row inserts of the same text become one
 * multi-row insert; any other write stays as it is.
 */
export function mergeBatch(batch: readonly PgWrite[]): MergedStatement[] {
  const out: MergedStatement[] = [];
  let i = 0;
  while (i < batch.length) {
    const first = batch[i]!;
    const shape = insertShape(first.sql);
    let j = i + 1;
    if (shape) {
      const maxRows = Math.max(1, Math.floor(MAX_PARAMS / shape.width));
      while (j < batch.length && j - i < maxRows && batch[j]!.sql === first.sql) j++;
    }
    const count = j - i;
    out.push(count === 1
      ? { sql: first.sql, params: first.params, count, prepared: true }
      : { sql: rowsSql(shape!, count), params: batch.slice(i, j).flatMap((w) => w.params), count, prepared: count <= PREPARED_ROWS });
    i = j;
  }
  return out;
}

type Pending = PgWrite & { resolve(): void; reject(err: unknown): void };

/**
 * Group commit for PostgreSQL. The writes asked for while one batch runs wait and form the next
 * batch; a batch's consecutive inserts of one kind (every token issued is one) go as a single
 * multi-row statement, so fifty concurrent token requests cost a few round trips and commits
 * instead of fifty. Each write settles only after the statement carrying it has committed.
 * A merged statement that fails (one of its rows violates a constraint, say) is retried write by
 * write, so that each caller gets its own write's outcome; a failed statement changed nothing.
 */
export function createPostgresWriter(run: PgRun): PostgresWriter {
  let queued: Pending[] = [];
  let running: Promise<void> | undefined;
  let closed = false;

  async function runMerged(batch: Pending[]): Promise<void> {
    let offset = 0;
    for (const statement of mergeBatch(batch)) {
      const writes = batch.slice(offset, offset + statement.count);
      offset += statement.count;
      try {
        await run(statement.sql, statement.params, statement.prepared);
        for (const w of writes) w.resolve();
      } catch (err) {
        if (writes.length === 1) writes[0]!.reject(err);
        else await runEach(writes);
      }
    }
  }

  async function runEach(writes: Pending[]): Promise<void> {
    for (const w of writes) {
      try {
        await run(w.sql, w.params, true);
        w.resolve();
      } catch (err) {
        w.reject(err);
      }
    }
  }

  async function drain(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued.slice(0, MAX_BATCH);
      queued = queued.slice(batch.length);
      await runMerged(batch);
    }
    running = undefined;
  }

  return {
    write(sql, params) {
      if (closed) return Promise.reject(new Error('the PostgreSQL writer is closed'));
      return new Promise<void>((resolve, reject) => {
        queued.push({ sql, params, resolve, reject });
        // The first write waits one turn of the event loop, for the writes of the same I/O.
        running ??= new Promise<void>((r) => setImmediate(r)).then(drain);
      });
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
