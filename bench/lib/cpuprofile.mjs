// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the
// most inclusive time, as percentages of the main thread's busy samples (idle excluded: the
// profile spans the server's whole life, set-up and seeding included), for bench/README.md.
// Work on libuv's thread pool (argon2, some crypto) is not sampled.
import { readFileSync, writeFileSync } from 'node:fs';

function where(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/** The monotonic clock in µs, as V8 stamps profile samples (CLOCK_MONOTONIC on Linux). */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * `window` ([from, to] in monotonicMicros of this machine) keeps only the samples taken then,
 * e.g. while the load ran, leaving out the server's start and the database seeding.
 */
export function summarizeProfile(file, { top = 15, requests, window, dump } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  if (window) {
    const hits = new Map();
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i];
      if (at >= window[0] && at <= window[1]) hits.set(id, (hits.get(id) ?? 0) + 1);
    });
    for (const n of profile.nodes) n.hitCount = hits.get(n.id) ?? 0;
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}`.trim();
  const self = new Map();
  const inclusive = new Map();
  // Depth-first with the keys on the stack, so recursion is counted once per sample.
  const walk = (id, stack) => {
    const n = byId.get(id);
    const k = key(n);
    const hits = n.hitCount ?? 0;
    self.set(k, (self.get(k) ?? 0) + hits);
    const fresh = !stack.has(k);
    if (fresh) stack.add(k);
    let subtree = hits;
    for (const c of n.children ?? []) subtree += walk(c, stack);
    if (fresh) {
      stack.delete(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + subtree);
    }
    return subtree;
  };
  walk(profile.nodes[0].id, new Set());
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (v) => `${((100 * v) / busy).toFixed(1)}%`.padStart(6);
  const skip = /^\((root|program|idle|garbage collector)\)/;
  const intervalMs = profile.timeDeltas.reduce((a, b) => a + b, 0) / profile.timeDeltas.length / 1000;
  const lines = [`${busy} busy samples of ${total} (~${intervalMs.toFixed(2)} ms each); GC ${pct(self.get('(garbage collector)') ?? 0)} of busy`];
  if (requests) lines.push(`main-thread busy time per request${window ? '' : ', set-up included'}: ${((busy * intervalMs) / requests).toFixed(3)} ms over ${requests} requests`);
  lines.push('self:');
  for (const [k, v] of [...self].filter(([k]) => !skip.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('inclusive:');
  for (const [k, v] of [...inclusive].filter(([k]) => !skip.test(k) && !k.startsWith('(anonymous)')).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  // Async work resumes from microtasks, so inclusive time stops at the first await: self time
  // summed by package says more about where a request's time goes.
  const byPackage = new Map();
  for (const [k, v] of self) {
    const at = k.split('  ')[1] ?? '';
    const pkg = at.startsWith('dist/') ? 'Tessera (dist/)'
      : at.startsWith('node:') || at === '' ? (skip.test(k) ? k.split('  ')[0] : 'node internals / native')
        : at.startsWith('@') ? at.split('/').slice(0, 2).join('/') : at.split('/')[0];
    if (pkg !== '(idle)') byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + v);
  }
  lines.push('self time by package:');
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  if (dump && requests) {
    // Self time per function in µs per request, for comparing two profiles function by function.
    const micros = Object.fromEntries([...self].map(([k, v]) => [k, (v * intervalMs * 1000) / requests]));
    writeFileSync(dump, JSON.stringify(micros));
  }
  return lines.join('\n');
}
