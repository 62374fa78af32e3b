import { availableParallelism } from 'node:os';

import { z } from 'zod';

/**
 * Tessera's configuration, read once from the environment (src/main.ts and the CLI call
 * `loadConfig(process.env)`; nothing else reads process.env). Every default is documented
 * here and in the README's configuration table.
 */
export interface Config {
  /** Listening port. Default 3000. */
  readonly port: number;
  /** Listening address. Default 0.0.0.0. */
  readonly host: string;
  /** Issuer identifier (RFC 8414). Default http://localhost:<PORT>. */
  readonly issuer: string;
  /** `file:./data/tessera.db` (SQLite, default) or `postgres://…`. */
  readonly databaseUrl: string;
  /** Connection pool (PostgreSQL) and timeouts. */
  readonly database: { readonly poolSize: number; readonly connectTimeoutSeconds: number; readonly statementTimeoutSeconds: number };
  /**
   * Clients and APIs are cached in memory (src/clients/registry-cache.ts): a change made by
   * another process is in force within about this many milliseconds; 0: no cache.
   */
  readonly clientCacheMs: number;
  /** production: no dev interactions, secure cookies when the issuer is https. */
  readonly production: boolean;
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). Default false. */
  readonly trustProxy: boolean;
  /** Cookie signing keys; when empty, keys are generated once and kept in the database. */
  readonly cookieKeys: readonly string[];
  /** Signing algorithm of new keys: ES256 (default), EdDSA or RS256. */
  readonly signingAlg: 'ES256' | 'EdDSA' | 'RS256';
  /** Retired signing keys stay published this long; instances re-check the keys this often. */
  readonly keys: { readonly overlapSeconds: number; readonly refreshIntervalSeconds: number };
  readonly ttl: {
    readonly accessTokenSeconds: number;
    readonly idTokenSeconds: number;
    readonly refreshTokenSeconds: number;
    readonly authorizationCodeSeconds: number;
    readonly sessionSeconds: number;
    readonly interactionSeconds: number;
    readonly grantSeconds: number;
    readonly clientCredentialsSeconds: number;
  };
  /** Logout revokes offline_access grants too (default true). */
  readonly logoutRevokesOfflineGrants: boolean;
  /**
   * Outbound calls (back-channel logout, SSF push) may use plain http and reach loopback,
   * private, link-local, CGNAT and unique-local addresses. Default false: https only, public
   * addresses only, checked when the connection is made (src/delivery/outbound.ts). For
   * development and tests; in production it lets a client registration aim Tessera at internal
   * services (SSRF).
   */
  readonly allowPrivateCallbacks: boolean;
  /** argon2id cost, and how many hashes may run at once (default: one core fewer than the machine has). */
  readonly argon2: { readonly memoryKib: number; readonly timeCost: number; readonly parallelism: number; readonly concurrency: number };
  /** Expired-row sweeper: interval and batch size. */
  readonly sweep: { readonly intervalSeconds: number; readonly batchSize: number };
  readonly admin: {
    /** Admin API requests per minute per caller (client, admin or IP). Default 600. */
    readonly rateLimitPerMinute: number;
    /** Console sign-ins last this long without activity. Default 8 hours. */
    readonly consoleSessionSeconds: number;
    /** Where the console reaches this server's own token endpoint; null: the listening address. */
    readonly internalUrl: string | null;
    /** First admin, created at start when no enabled admin exists. */
    readonly bootstrap: { readonly email: string; readonly password: string } | null;
  };
  /** The SSF transmitter (src/ssf). */
  readonly ssf: {
    /** SSF requests (polls included) per minute per receiver, and per address before authentication. Default 3000. */
    readonly rateLimitPerMinute: number;
    /** A stream nobody polls or reads for this many seconds is removed. Default 86400. */
    readonly inactivityTimeoutSeconds: number;
    /** Streams one receiver may have. Default 100. */
    readonly maxStreamsPerReceiver: number;
    /** How long a long poll (RFC 8936, returnImmediately false) is held. Default 25. */
    readonly longPollSeconds: number;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

// Whole numbers only: z.coerce would turn an empty string into 0 (and PORT= into a random port).
const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.string().regex(/^(file:.+|postgres(ql)?:\/\/.+)$/, 'must start with file: or postgres://').default('file:./data/tessera.db'),
  DATABASE_POOL_SIZE: int(1, 1000).default(10),
  DATABASE_CONNECT_TIMEOUT: int(1, 600).default(5),
  DATABASE_STATEMENT_TIMEOUT: int(1, 3600).default(10),
  CLIENT_CACHE_MS: int(0, 60_000).default(100),
  NODE_ENV: z.string().default('development'),
  TRUST_PROXY: bool.default(false),
  COOKIE_KEYS: z.string().optional(),
  SIGNING_ALG: z.enum(['ES256', 'EdDSA', 'RS256']).default('ES256'),
  SIGNING_KEY_OVERLAP: int(60, 31_536_000).default(86_400),
  KEY_REFRESH_INTERVAL: int(1, 3600).default(5),
  ACCESS_TOKEN_TTL: int(10, 86_400).default(300),
  ID_TOKEN_TTL: int(10, 86_400).default(3600),
  REFRESH_TOKEN_TTL: int(60, 31_536_000).default(1_209_600),
  AUTHORIZATION_CODE_TTL: int(5, 600).default(60),
  SESSION_TTL: int(60, 31_536_000).default(1_209_600),
  INTERACTION_TTL: int(60, 86_400).default(3600),
  GRANT_TTL: int(60, 31_536_000).default(1_209_600),
  CLIENT_CREDENTIALS_TTL: int(10, 86_400).default(300),
  LOGOUT_REVOKES_OFFLINE: bool.default(true),
  ALLOW_PRIVATE_CALLBACKS: bool.default(false),
  ARGON2_MEMORY_KIB: int(8192, 4_194_304).default(19_456),
  ARGON2_TIME_COST: int(1, 20).default(2),
  ARGON2_PARALLELISM: int(1, 16).default(1),
  ARGON2_CONCURRENCY: int(1, 256).optional(),
  SWEEP_INTERVAL: int(1, 86_400).default(60),
  SWEEP_BATCH_SIZE: int(1, 100_000).default(500),
  ADMIN_RATE_LIMIT: int(1, 1_000_000).default(600),
  CONSOLE_SESSION_TTL: int(60, 604_800).default(28_800),
  INTERNAL_URL: z.url({ protocol: /^https?$/ }).optional(),
  ADMIN_BOOTSTRAP_EMAIL: z.email().optional(),
  ADMIN_BOOTSTRAP_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  SSF_RATE_LIMIT: int(1, 1_000_000).default(3000),
  SSF_INACTIVITY_TIMEOUT: int(60, 31_536_000).default(86_400),
  SSF_MAX_STREAMS: int(1, 100_000).default(100),
  SSF_LONG_POLL_SECONDS: int(1, 120).default(25),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const cookieKeys = (e.COOKIE_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (cookieKeys.some((k) => k.length < 32)) {
    throw new ConfigError('invalid configuration: COOKIE_KEYS: each key must be at least 32 characters');
  }
  if ((e.ADMIN_BOOTSTRAP_EMAIL === undefined) !== (e.ADMIN_BOOTSTRAP_PASSWORD === undefined)) {
    throw new ConfigError('invalid configuration: ADMIN_BOOTSTRAP_EMAIL and ADMIN_BOOTSTRAP_PASSWORD: set both or neither');
  }
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    issuer,
    databaseUrl: e.DATABASE_URL,
    database: Object.freeze({
      poolSize: e.DATABASE_POOL_SIZE,
      connectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT,
      statementTimeoutSeconds: e.DATABASE_STATEMENT_TIMEOUT,
    }),
    clientCacheMs: e.CLIENT_CACHE_MS,
    production: e.NODE_ENV === 'production',
    trustProxy: e.TRUST_PROXY,
    cookieKeys,
    signingAlg: e.SIGNING_ALG,
    keys: Object.freeze({ overlapSeconds: e.SIGNING_KEY_OVERLAP, refreshIntervalSeconds: e.KEY_REFRESH_INTERVAL }),
    ttl: Object.freeze({
      accessTokenSeconds: e.ACCESS_TOKEN_TTL,
      idTokenSeconds: e.ID_TOKEN_TTL,
      refreshTokenSeconds: e.REFRESH_TOKEN_TTL,
      authorizationCodeSeconds: e.AUTHORIZATION_CODE_TTL,
      sessionSeconds: e.SESSION_TTL,
      interactionSeconds: e.INTERACTION_TTL,
      grantSeconds: e.GRANT_TTL,
      clientCredentialsSeconds: e.CLIENT_CREDENTIALS_TTL,
    }),
    logoutRevokesOfflineGrants: e.LOGOUT_REVOKES_OFFLINE,
    allowPrivateCallbacks: e.ALLOW_PRIVATE_CALLBACKS,
    argon2: Object.freeze({
      memoryKib: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_TIME_COST,
      parallelism: e.ARGON2_PARALLELISM,
      concurrency: e.ARGON2_CONCURRENCY ?? Math.max(1, availableParallelism() - 1),
    }),
    sweep: Object.freeze({ intervalSeconds: e.SWEEP_INTERVAL, batchSize: e.SWEEP_BATCH_SIZE }),
    admin: Object.freeze({
      rateLimitPerMinute: e.ADMIN_RATE_LIMIT,
      consoleSessionSeconds: e.CONSOLE_SESSION_TTL,
      internalUrl: e.INTERNAL_URL?.replace(/\/$/, '') ?? null,
      bootstrap: e.ADMIN_BOOTSTRAP_EMAIL && e.ADMIN_BOOTSTRAP_PASSWORD ? Object.freeze({ email: e.ADMIN_BOOTSTRAP_EMAIL, password: e.ADMIN_BOOTSTRAP_PASSWORD }) : null,
    }),
    ssf: Object.freeze({
      rateLimitPerMinute: e.SSF_RATE_LIMIT,
      inactivityTimeoutSeconds: e.SSF_INACTIVITY_TIMEOUT,
      maxStreamsPerReceiver: e.SSF_MAX_STREAMS,
      longPollSeconds: e.SSF_LONG_POLL_SECONDS,
    }),
    logLevel: e.LOG_LEVEL,
  });
}
