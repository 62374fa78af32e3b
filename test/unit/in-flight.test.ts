import { describe, expect, it } from 'vitest';

import { createInFlight } from '../../src/http/in-flight.js';

describe('in-flight requests at shutdown', () => {
  it('drained() waits for the handler still at work, then resolves true', async () => {
    const tracker = createInFlight();
    let finish!: () => void;
    const handler = tracker.middleware({} as never, () => new Promise<void>((resolve) => { finish = resolve; }));
    expect(tracker.count()).toBe(1);
    let drained: boolean | undefined;
    const waiting = tracker.drained(5_000).then((v) => { drained = v; });
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBeUndefined();
    finish();
    await handler;
    await waiting;
    expect(drained).toBe(true);
    expect(tracker.count()).toBe(0);
  });

  it('a failing handler is counted out too; with nothing in flight drained() resolves at once', async () => {
    const tracker = createInFlight();
    await expect(tracker.middleware({} as never, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(tracker.count()).toBe(0);
    await expect(tracker.drained(1)).resolves.toBe(true);
  });

  it('gives up after the timeout (false) when a handler never finishes', async () => {
    const tracker = createInFlight();
    void tracker.middleware({} as never, () => new Promise<void>(() => undefined));
    await expect(tracker.drained(30)).resolves.toBe(false);
  });
});
