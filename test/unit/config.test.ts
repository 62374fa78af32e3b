import { availableParallelism } from 'node:os';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

describe('loadConfig', () => {
  it('has documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.issuer).toBe('http://localhost:3000');
    expect(c.databaseUrl).toBe('file:./data/tessera.db');
    expect(c.production).toBe(false);
    expect(c.trustProxy).toBe(false);
    expect(c.cookieKeys).toEqual([]);
    expect(c.signingAlg).toBe('ES256');
    expect(c.clientCacheMs).toBe(100);
    expect(c.ttl).toEqual({
      accessTokenSeconds: 300,
      idTokenSeconds: 3600,
      refreshTokenSeconds: 1_209_600,
      authorizationCodeSeconds: 60,
      sessionSeconds: 1_209_600,
      interactionSeconds: 3600,
      grantSeconds: 1_209_600,
      clientCredentialsSeconds: 300,
    });
    expect(c.logoutRevokesOfflineGrants).toBe(true);
    expect(c.argon2).toEqual({ memoryKib: 19_456, timeCost: 2, parallelism: 1, concurrency: Math.max(1, availableParallelism() - 1) });
    expect(c.sweep).toEqual({ intervalSeconds: 60, batchSize: 500 });
    expect(c.logLevel).toBe('info');
    expect(c.admin).toEqual({ rateLimitPerMinute: 600, consoleSessionSeconds: 28_800, internalUrl: null, bootstrap: null });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.ttl)).toBe(true);
  });

  it('reads and coerces every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      ISSUER: 'https://id.example.com/',
      DATABASE_URL: 'postgres://u:p@db/tessera',
      NODE_ENV: 'production',
      TRUST_PROXY: 'yes',
      COOKIE_KEYS: ` ${'a'.repeat(32)} , ${'b'.repeat(40)} ,`,
      SIGNING_ALG: 'EdDSA',
      ACCESS_TOKEN_TTL: '600',
      LOGOUT_REVOKES_OFFLINE: '0',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      ARGON2_CONCURRENCY: '3',
      LOG_LEVEL: 'silent',
    });
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.issuer).toBe('https://id.example.com'); // trailing slash removed
    expect(c.databaseUrl).toBe('postgres://u:p@db/tessera');
    expect(c.production).toBe(true);
    expect(c.trustProxy).toBe(true);
    expect(c.cookieKeys).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
    expect(c.signingAlg).toBe('EdDSA');
    expect(c.ttl.accessTokenSeconds).toBe(600);
    expect(c.logoutRevokesOfflineGrants).toBe(false);
    expect(c.argon2).toMatchObject({ memoryKib: 8192, timeCost: 1, concurrency: 3 });
    expect(c.logLevel).toBe('silent');
  });

  it('derives the default issuer from PORT', () => {
    expect(loadConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['HOST', ''],
    ['ISSUER', 'not-a-url'],
    ['ISSUER', 'ftp://id.example.com'],
    ['DATABASE_URL', 'mysql://db/tessera'],
    ['DATABASE_URL', 'file:'],
    ['TRUST_PROXY', 'maybe'],
    ['SIGNING_ALG', 'HS256'],
    ['SIGNING_ALG', 'none'],
    ['ACCESS_TOKEN_TTL', '5'],
    ['ID_TOKEN_TTL', '100000'],
    ['REFRESH_TOKEN_TTL', '59'],
    ['AUTHORIZATION_CODE_TTL', '601'],
    ['SESSION_TTL', 'forever'],
    ['INTERACTION_TTL', '30'],
    ['GRANT_TTL', '1'],
    ['CLIENT_CREDENTIALS_TTL', '0'],
    ['LOGOUT_REVOKES_OFFLINE', 'sometimes'],
    ['ARGON2_MEMORY_KIB', '1024'],
    ['ARGON2_TIME_COST', '0'],
    ['ARGON2_PARALLELISM', '17'],
    ['SWEEP_INTERVAL', '0'],
    ['SWEEP_BATCH_SIZE', '1000000'],
    ['LOG_LEVEL', 'verbose'],
  ])('rejects %s=%j and names the variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain('invalid configuration');
    expect(err.message).toContain(`${name}:`);
  });

  it('does not turn an empty PORT into port 0 (a random port): default or an error naming PORT', () => {
    for (const value of ['', ' ']) {
      let port: number | undefined;
      try {
        port = loadConfig({ PORT: value }).port;
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toContain('PORT');
        continue;
      }
      expect(port, `PORT=${JSON.stringify(value)}`).toBe(3000);
    }
    // An explicit 0 stays allowed (ephemeral port).
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('reads CLIENT_CACHE_MS (0 turns the cache off) and names it when out of range', () => {
    expect(loadConfig({ CLIENT_CACHE_MS: '0' }).clientCacheMs).toBe(0);
    expect(loadConfig({ CLIENT_CACHE_MS: '2500' }).clientCacheMs).toBe(2500);
    for (const bad of ['-1', '60001', '0.5', 'fast']) expect(configError({ CLIENT_CACHE_MS: bad }).message).toMatch(/CLIENT_CACHE_MS/);
  });

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'abc', SIGNING_ALG: 'HS256', ISSUER: 'nope', LOG_LEVEL: 'loud' });
    for (const name of ['PORT', 'SIGNING_ALG', 'ISSUER', 'LOG_LEVEL']) expect(err.message).toContain(`${name}:`);
  });

  it('rejects COOKIE_KEYS shorter than 32 characters, naming the variable', () => {
    expect(configError({ COOKIE_KEYS: 'short' }).message).toMatch(/COOKIE_KEYS.*32/);
    // One good key does not excuse a short one.
    expect(configError({ COOKIE_KEYS: `${'a'.repeat(32)},${'b'.repeat(31)}` }).message).toContain('COOKIE_KEYS');
    expect(loadConfig({ COOKIE_KEYS: 'k'.repeat(32) }).cookieKeys).toEqual(['k'.repeat(32)]);
  });

  it('treats an empty COOKIE_KEYS as "generate and keep in the database"', () => {
    expect(loadConfig({ COOKIE_KEYS: '' }).cookieKeys).toEqual([]);
    expect(loadConfig({ COOKIE_KEYS: ' , ' }).cookieKeys).toEqual([]);
  });

  it('reads the admin console and API variables', () => {
    const c = loadConfig({
      ADMIN_RATE_LIMIT: '30',
      CONSOLE_SESSION_TTL: '900',
      INTERNAL_URL: 'http://tessera:3000/',
      ADMIN_BOOTSTRAP_EMAIL: 'root@example.com',
      ADMIN_BOOTSTRAP_PASSWORD: 'first admin password',
    });
    expect(c.admin).toEqual({
      rateLimitPerMinute: 30,
      consoleSessionSeconds: 900,
      internalUrl: 'http://tessera:3000',
      bootstrap: { email: 'root@example.com', password: 'first admin password' },
    });
  });

  it('rejects half a bootstrap admin, a short bootstrap password and a bad e-mail, naming the variable', () => {
    expect(configError({ ADMIN_BOOTSTRAP_EMAIL: 'root@example.com' }).message).toMatch(/ADMIN_BOOTSTRAP_EMAIL and ADMIN_BOOTSTRAP_PASSWORD/);
    expect(configError({ ADMIN_BOOTSTRAP_PASSWORD: 'long enough password' }).message).toMatch(/ADMIN_BOOTSTRAP_EMAIL and ADMIN_BOOTSTRAP_PASSWORD/);
    expect(configError({ ADMIN_BOOTSTRAP_EMAIL: 'root@example.com', ADMIN_BOOTSTRAP_PASSWORD: 'short' }).message).toContain('ADMIN_BOOTSTRAP_PASSWORD:');
    expect(configError({ ADMIN_BOOTSTRAP_EMAIL: 'root', ADMIN_BOOTSTRAP_PASSWORD: 'long enough password' }).message).toContain('ADMIN_BOOTSTRAP_EMAIL:');
    expect(configError({ ADMIN_RATE_LIMIT: '0' }).message).toContain('ADMIN_RATE_LIMIT:');
    expect(configError({ INTERNAL_URL: 'ftp://x' }).message).toContain('INTERNAL_URL:');
  });
});
