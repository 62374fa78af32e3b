import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { root } from '../support/server.js';

// No Docker engine runs on our machines: the Dockerfile is checked by reading it, and
// scripts/docker-steps.sh performs its steps for real.
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

const runtimeStage = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));

describe('Dockerfile', () => {
  it('is multi-stage on Node 24', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:24[-\w.]* AS \w+$/);
  });

  it('runs as a non-root user with the database on a volume', () => {
    expect(runtimeStage.some((l) => /^USER (?!root\b|0\b)\w+/.test(l))).toBe(true);
    expect(runtimeStage.find((l) => l.startsWith('VOLUME'))).toContain('/data');
    expect(runtimeStage.find((l) => l.startsWith('ENV'))).toMatch(/DATABASE_URL=file:\/data\//);
  });

  it('has a HEALTHCHECK and starts the compiled server (which migrates at start)', () => {
    expect(runtimeStage.some((l) => l.startsWith('HEALTHCHECK') && l.includes('/readyz'))).toBe(true);
    expect(runtimeStage.find((l) => l.startsWith('CMD'))).toBe('CMD ["node", "dist/main.js"]');
    expect(readFileSync(join(root, 'src/main.ts'), 'utf8')).toContain('migrateDatabase(');
  });

  it('copies only files that exist', () => {
    for (const line of instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const parts = line.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(existsSync(join(root, source)), source).toBe(true);
    }
  });
});
