/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture
 * Blog, 2015): the n-th retry waits a uniformly random time in [0, min(maxMs, baseMs · 2^(n-1))),
 * so receivers that failed together do not get their retries back together. Pure: `random`
 * (default Math.random, values in [0, 1)) is passed in.
 */
export function nextDelayMs(attempt: number, options: { baseMs: number; maxMs: number; random?: () => number }): number {
  const { baseMs, maxMs, random = Math.random } = options;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after the cap has been reached: min() keeps it finite.
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 1023));
  return Math.floor(random() * cap);
}
