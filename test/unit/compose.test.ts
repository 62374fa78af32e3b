import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { loadConfig } from '../../src/config.js';
import { root } from '../support/server.js';

// No Docker engine on our machines: the example deployment is checked by reading it.
const dir = join(root, 'examples/docker-compose');
const compose = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { build?: string; environment?: Record<string, string>; depends_on?: unknown; image?: string; healthcheck?: unknown }>;
};

describe('examples/docker-compose', () => {
  const instances = Object.entries(compose.services).filter(([name]) => name.startsWith('tessera-'));

  it('runs several Tessera instances from this repository on one PostgreSQL database', () => {
    expect(instances.length).toBeGreaterThanOrEqual(2);
    const urls = new Set(instances.map(([, s]) => s.environment?.DATABASE_URL));
    expect(urls.size).toBe(1);
    expect([...urls][0]).toMatch(/^postgresql:\/\/[^@]+@postgres:5432\//);
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    expect(compose.services.postgres?.healthcheck).toBeTruthy();
    for (const [, s] of instances) {
      expect(s.build).toBe('../..');
      expect(s.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    }
  });

  it('gives every instance the same public issuer and trusts the proxy; the environment is valid', () => {
    const issuers = new Set(instances.map(([, s]) => s.environment?.ISSUER));
    expect(issuers.size).toBe(1);
    for (const [, s] of instances) {
      const config = loadConfig(s.environment ?? {});
      expect(config.trustProxy).toBe(true);
      expect(config.issuer).toMatch(/^https:\/\//);
    }
  });

  it('balances over every instance and forwards the original scheme and host', () => {
    const nginx = readFileSync(join(dir, 'nginx.conf'), 'utf8');
    for (const [name] of instances) expect(nginx).toContain(`server ${name}:3000`);
    expect(nginx).toMatch(/X-Forwarded-Proto/);
    expect(nginx).toMatch(/X-Forwarded-Host/);
  });
});
