import { describe, expect, it } from 'vitest';

import { batchReads } from '../../src/db/batched-reads.js';

/** A `run` whose batches the test answers by hand. */
function manualRun() {
  const batches: { keys: readonly string[]; answer(results: string[]): void; fail(err: Error): void }[] = [];
  const run = (keys: readonly string[]) => new Promise<readonly string[]>((resolve, reject) => {
    batches.push({ keys, answer: resolve, fail: reject });
  });
  return { batches, run };
}
const turn = () => new Promise((r) => setImmediate(r));

describe('batchReads', () => {
  it('the reads asked for in one turn go out as one batch; each caller gets the result at its position', async () => {
    const { batches, run } = manualRun();
    const read = batchReads(run, { maxInFlight: 2, maxBatch: 100 });
    const answers = Promise.all(['a', 'b', 'c'].map(read));
    await turn();
    expect(batches.map((b) => b.keys)).toEqual([['a', 'b', 'c']]);
    batches[0]!.answer(['A', 'B', 'C']);
    expect(await answers).toEqual(['A', 'B', 'C']);
  });

  it('a read asked for while a batch runs is never answered by it: it goes out in a later batch', async () => {
    const { batches, run } = manualRun();
    const read = batchReads(run, { maxInFlight: 1, maxBatch: 100 });
    const first = read('k');
    await turn();
    const second = read('k'); // the same key, asked after the first batch started
    await turn();
    expect(batches).toHaveLength(1);
    batches[0]!.answer(['old']);
    expect(await first).toBe('old');
    await turn();
    expect(batches.map((b) => b.keys)).toEqual([['k'], ['k']]);
    batches[1]!.answer(['new']);
    expect(await second).toBe('new');
  });

  it('at most maxInFlight batches run at once, each of at most maxBatch keys; the rest wait', async () => {
    const { batches, run } = manualRun();
    const read = batchReads(run, { maxInFlight: 2, maxBatch: 2 });
    const all = Promise.all(['1', '2', '3', '4', '5'].map(read));
    await turn();
    expect(batches.map((b) => b.keys)).toEqual([['1', '2'], ['3', '4']]);
    batches[1]!.answer(['three', 'four']);
    await turn();
    expect(batches.map((b) => b.keys)).toEqual([['1', '2'], ['3', '4'], ['5']]);
    batches[0]!.answer(['one', 'two']);
    batches[2]!.answer(['five']);
    expect(await all).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('a failed batch fails its own callers only; one answering the wrong number of results fails too', async () => {
    const { batches, run } = manualRun();
    const read = batchReads(run, { maxInFlight: 2, maxBatch: 1 });
    const [a, b, c] = [read('a'), read('b'), read('c')];
    await turn();
    batches[0]!.fail(new Error('connection lost'));
    batches[1]!.answer(['B']);
    await expect(a).rejects.toThrow('connection lost');
    expect(await b).toBe('B');
    await turn();
    batches[2]!.answer([]);
    await expect(c).rejects.toThrow('answered 0 results for 1 keys');
  });
});
