import { readKey, type Read } from '../db/shared-reads.js';

type Row = Record<string, unknown>;

/**
 * The rows of clients and APIs, kept in memory: every token request reads its client, and each
 * one with a resource indicator its API, while those rows change a few times a day.
 *
 * When a cached row is safe to use:
 * - A change made through this process (admin API, console) calls `changed()`, which drops every
 *   row at once.
 * - A change made anywhere else (the CLI, another instance, plain SQL) raises the database's
 *   registry revision (triggers on Client and Api, see the registry_revision migration).
 *   `refresh()`, every `intervalMs`, reads that revision and drops every row when it moved. Such
 *   a change is therefore in force within about `intervalMs` plus one read.
 * - A row is cached only while the revision is known. Until the first refresh answers, and from
 *   a failed refresh until one succeeds, every read goes to the database (which, if
 *   unreachable, fails the request: nothing is served from memory during an outage).
 * - A read that began before a drop is not cached when it ends: its row may predate the change.
 * - Only rows that exist are cached, so unknown ids sent by anyone cannot fill memory. At most
 *   `maxEntries` rows are kept; beyond that the cache starts over.
 *
 * With `intervalMs` 0 nothing is cached and every call reads the database, as before this cache.
 */
export interface RegistryCache {
  /** `read` (a coalesced point read of one client or API row), from memory when allowed. */
  readonly read: Read<Row | undefined>;
  /** Drops every row: this process has just changed a client or an API. */
  changed(): void;
  /** Reads the registry revision once; the timer's work (tests call it directly). */
  refresh(): Promise<void>;
  close(): void;
}

export interface RegistryCacheOptions {
  readonly read: Read<Row | undefined>;
  /** The database's registry revision; undefined (the row is missing) counts as unknown. */
  readonly revision: () => Promise<number | undefined>;
  readonly intervalMs: number;
  readonly maxEntries?: number;
  /** Called when refreshes start failing (once per outage, not at every attempt). */
  readonly onError?: (err: unknown) => void;
}

export function createRegistryCache(options: RegistryCacheOptions): RegistryCache {
  const { read, revision, intervalMs, maxEntries = 10_000, onError } = options;
  if (intervalMs <= 0) return { read, changed() {}, refresh: async () => {}, close() {} };

  const rows = new Map<string, Row>();
  // Bumped at every drop: a read that started in an earlier epoch must not be cached.
  let epoch = 0;
  let known: number | undefined;
  let trusted = false;
  let failing = false;
  let closed = false;
  let refreshing: Promise<void> | undefined;

  function drop(): void {
    epoch += 1;
    rows.clear();
  }

  async function refreshOnce(): Promise<void> {
    try {
      const current = await revision();
      if (closed) return; // a refresh that was under way when the cache closed
      if (current === undefined) throw new Error('the registry revision row is missing');
      if (current !== known) drop();
      known = current;
      trusted = true;
      failing = false;
    } catch (err) {
      if (!failing) onError?.(err);
      failing = true;
      trusted = false;
      known = undefined;
      drop();
    }
  }

  function refresh(): Promise<void> {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  void refresh();

  return {
    async read(sql, params) {
      if (!trusted) return read(sql, params);
      const key = readKey(sql, params);
      const hit = rows.get(key);
      if (hit) return hit;
      const startedIn = epoch;
      const row = await read(sql, params);
      if (row === undefined || !trusted || epoch !== startedIn) return row;
      if (rows.size >= maxEntries) rows.clear();
      const kept = Object.freeze(row);
      rows.set(key, kept);
      return kept;
    },
    changed: drop,
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
      trusted = false;
      drop();
    },
  };
}
