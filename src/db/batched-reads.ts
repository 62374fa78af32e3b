/**
 * Point reads of one shape (one statement, one row per key) asked for by concurrent requests,
 * run as one statement per batch: `run(keys)` answers one result per key, in order. On
 * PostgreSQL a statement is a network round trip with a fixed cost on both sides, which the
 * introspection of many different tokens at once pays once per batch instead of once per token.
 *
 * A batch holds the keys asked for during one turn of the event loop, or while `maxInFlight`
 * batches were running; it starts after every one of its callers called, so each caller sees
 * the database as of a moment after its call, as with a statement of its own. Nothing is
 * cached. If a batch fails, every caller in it gets that failure.
 */
/**
 * Tessera's batches: two in flight per statement (one runs while the next fills; the read pool
 * has at least two connections), at most 200 keys each.
 */
export const READ_BATCHES = { maxInFlight: 2, maxBatch: 200 } as const;

export function batchReads<K, R>(run: (keys: readonly K[]) => Promise<readonly R[]>, options: { maxInFlight: number; maxBatch: number }): (key: K) => Promise<R> {
  type Waiting = { key: K; resolve(result: R): void; reject(err: unknown): void };
  let queued: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    while (queued.length > 0 && inFlight < options.maxInFlight) {
      const batch = queued.slice(0, options.maxBatch);
      queued = queued.slice(batch.length);
      inFlight += 1;
      run(batch.map((w) => w.key)).then(
        (results) => {
          if (results.length !== batch.length) throw new Error(`a batched read answered ${results.length} results for ${batch.length} keys`);
          batch.forEach((w, i) => w.resolve(results[i]!));
        },
      ).catch((err: unknown) => {
        for (const w of batch) w.reject(err);
      }).finally(() => {
        inFlight -= 1;
        if (queued.length > 0) flush();
      });
    }
  }

  return (key) => new Promise<R>((resolve, reject) => {
    queued.push({ key, resolve, reject });
    if (!scheduled && inFlight < options.maxInFlight) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
