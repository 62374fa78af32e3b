import type { StaleReason } from './errors.js';
import type { Logger } from './logger.js';
import type { TokenClaims } from './revocation-set.js';

/** The public shape of a revocation feed and its options (src/feed.ts builds one). */
export interface RevocationFeedOptions {
  /** Tessera's issuer URL (as in its discovery documents). */
  issuer: string;
  /** A Tessera client allowed the scopes ssf.manage and ssf.read; SETs are addressed to it (aud). */
  clientId: string;
  clientSecret: string;
  /** Without a successful answer from Tessera for this long, the feed fails closed (default 30). */
  staleAfterSeconds?: number;
  /** Most revocations held in memory (default 1,000,000); beyond, the feed fails closed until enough expire. */
  maxEntries?: number;
  /** Longest access token lifetime, for events that do not say until when their tokens can be valid (default 86,400). */
  maxTokenLifetimeSeconds?: number;
  /** When stale, answer from what the feed knows instead of throwing. Dangerous: see the README. */
  failOpen?: boolean;
  /** The stream's description, shown in Tessera (default "@tessera/resource-server"). */
  description?: string;
  /** Where to report problems (console-like: info, warn, error; each gets one string). Default: console warn and error. */
  logger?: Logger;
  /** fetch implementation for every request to Tessera, the key set included (default: global fetch). */
  fetch?: typeof fetch;
  /** ready() rejects when the feed has not caught up within this long because Tessera cannot be reached (default 30). */
  readyTimeoutSeconds?: number;
}

/** express-jwt's token argument: the decoded JWT. */
export interface DecodedJwt {
  readonly header?: unknown;
  readonly payload?: unknown;
}

/** The parts of a Koa context the middleware uses. */
export interface KoaContextLike {
  state?: Record<string, unknown>;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

/** express-jwt's `isRevoked` (it awaits the answer, and passes a throw on to Express's error handler). */
export interface IsRevoked {
  (req: unknown, token: DecodedJwt | undefined): boolean;
  /** Declared so that `isRevoked: feed.isRevoked` fits express-jwt's type, which wants a promise; the answer is a boolean. */
  (req: unknown, token: DecodedJwt | undefined): Promise<boolean>;
}

export interface RevocationFeedHealth {
  /** Whether revoked() answers (rather than throwing the stale error). */
  healthy: boolean;
  /** Why not, when not. */
  reason: StaleReason | undefined;
  ready: boolean;
  /** Last successful answer from Tessera's poll or status endpoint. */
  lastContact: Date | undefined;
  entries: number;
  streamId: string | undefined;
}

export interface RevocationFeed {
  /** Resolves once the stream is created and the first polls returned everything pending. */
  ready(): Promise<void>;
  /** express-jwt 8: `isRevoked: feed.isRevoked`. Throws the 503 stale error when stale. Works unbound. */
  readonly isRevoked: IsRevoked;
  /** Whether the token with these (verified) claims is revoked. Throws the 503 stale error when stale. Works unbound. */
  readonly revoked: (payload: TokenClaims) => boolean;
  /** Koa middleware after koa-jwt: 401 invalid_token when ctx.state[key] is revoked, 503 when stale. */
  koa(options?: { key?: string }): KoaMiddleware;
  /** For health checks and metrics. */
  health(): RevocationFeedHealth;
  /** Stops polling and aborts the pending long poll; from then on revoked() throws (unless failOpen). */
  close(): Promise<void>;
}
