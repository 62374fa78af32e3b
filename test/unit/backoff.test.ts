import { describe, expect, it } from 'vitest';

import { nextDelayMs } from '../../src/delivery/backoff.js';

describe('nextDelayMs: exponential backoff with full jitter', () => {
  const options = { baseMs: 500, maxMs: 60_000 };

  it('the ceiling doubles with each attempt, from baseMs, up to maxMs', () => {
    const top = (attempt: number) => nextDelayMs(attempt, { ...options, random: () => 0.999_999_9 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(top)).toEqual([499, 999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999]);
    expect(top(10_000)).toBe(59_999);
  });

  it('is uniformly spread from 0 (full jitter)', () => {
    expect(nextDelayMs(3, { ...options, random: () => 0 })).toBe(0);
    expect(nextDelayMs(3, { ...options, random: () => 0.5 })).toBe(1000);
  });

  it('treats attempt 0 or less like the first', () => {
    expect(nextDelayMs(0, { ...options, random: () => 0.5 })).toBe(250);
    expect(nextDelayMs(-3, { ...options, random: () => 0.5 })).toBe(250);
  });

  it('stays within [0, maxMs) with the real random source', () => {
    for (let attempt = 1; attempt < 40; attempt += 1) {
      const delay = nextDelayMs(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(60_000);
    }
  });
});
