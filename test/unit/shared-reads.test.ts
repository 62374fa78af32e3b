import { describe, expect, it } from 'vitest';

import { coalesceReads } from '../../src/db/shared-reads.js';

/** A read whose answers the test releases by hand, recording when each read started. */
function controlledRead() {
  const started: { sql: string; params: readonly string[]; value: number; release(): void; fail(err: Error): void }[] = [];
  let version = 0;
  const read = (sql: string, params: readonly string[]) =>
    new Promise<number>((resolve, reject) => {
      // The value is the database's state when the read starts.
      const value = version;
      started.push({ sql, params, value, release: () => resolve(value), fail: reject });
    });
  return { read, started, bump: () => ++version };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalesced reads of a hot row', () => {
  it('callers arriving while a read runs share the next read, which starts after they arrived', async () => {
    const { read, started, bump } = controlledRead();
    const shared = coalesceReads(read);
    const first = shared('SELECT', ['client-a']);
    bump(); // the row changes after the first read started…
    const later = [shared('SELECT', ['client-a']), shared('SELECT', ['client-a']), shared('SELECT', ['client-a'])];
    expect(started).toHaveLength(1);
    started[0]!.release();
    await expect(first).resolves.toBe(0);
    await tick();
    // …so the callers that came after it must not get its answer: one more read, for all three.
    expect(started).toHaveLength(2);
    started[1]!.release();
    await expect(Promise.all(later)).resolves.toEqual([1, 1, 1]);
    // Nothing in flight: the next caller starts a read of its own at once.
    const again = shared('SELECT', ['client-a']);
    expect(started).toHaveLength(3);
    started[2]!.release();
    await expect(again).resolves.toBe(1);
  });

  it('different parameters or statements are never coalesced', async () => {
    const { read, started } = controlledRead();
    const shared = coalesceReads(read);
    const answers = [shared('SELECT', ['a']), shared('SELECT', ['b']), shared('OTHER', ['a']), shared('SELECT', ['a', 'b'])];
    expect(started.map((s) => [s.sql, ...s.params])).toEqual([['SELECT', 'a'], ['SELECT', 'b'], ['OTHER', 'a'], ['SELECT', 'a', 'b']]);
    for (const s of started) s.release();
    await Promise.all(answers);
  });

  it('a failed read fails the callers that shared it, and the waiting callers still get a read of their own', async () => {
    const { read, started } = controlledRead();
    const shared = coalesceReads(read);
    const first = shared('SELECT', ['x']);
    const second = shared('SELECT', ['x']);
    started[0]!.fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await tick();
    expect(started).toHaveLength(2);
    started[1]!.release();
    await expect(second).resolves.toBe(0);
  });
});
