import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

import { AppError, invalidInput } from '../errors.js';
import type { Logger } from '../log.js';
import type { createPoller } from './poll.js';
import { SSF_MANAGE, SSF_READ, type createReceiverAuth, type Receiver } from './receiver-auth.js';
import type { SetSigner } from './sets.js';
import { parseBody, pollInput, statusInput, streamInput, verificationInput, POLL_METHOD, PUSH_METHOD } from './stream-config.js';
import type { StreamStatus, Streams } from './streams.js';

export const SSF_METADATA_PATH = '/.well-known/ssf-configuration';

export const SSF_PATHS = {
  jwks: '/ssf/jwks',
  streams: '/ssf/streams',
  status: '/ssf/status',
  verify: '/ssf/verify',
  poll: '/ssf/poll',
} as const;

const EITHER = [SSF_MANAGE, SSF_READ] as const;
const MANAGE = [SSF_MANAGE] as const;

/** SSF 1.0 §7.1: the transmitter's metadata; every URL is built from ISSUER. */
export function ssfMetadata(issuer: string): Record<string, unknown> {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}${SSF_PATHS.jwks}`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: `${issuer}${SSF_PATHS.streams}`,
    status_endpoint: `${issuer}${SSF_PATHS.status}`,
    verification_endpoint: `${issuer}${SSF_PATHS.verify}`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    default_subjects: 'ALL',
  };
}

/** Maps errors to the JSON answers SSF receivers expect (`error`, `error_description`). */
async function jsonErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    ctx.status = err.status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.code === 'invalid_input' ? 'invalid_request' : err.code, error_description: err.message, ...(err.field ? { field: err.field } : {}) };
  }
}

function streamIdParam(ctx: Context): string {
  const value = ctx.query.stream_id;
  if (typeof value !== 'string' || value === '') throw invalidInput('stream_id', 'is required (query parameter)');
  return value;
}

/**
 * The SSF transmitter's HTTP endpoints: stream management (§8.1.1), status (§8.1.2),
 * verification (§8.1.4), RFC 8936 poll and the SET key set. Each receiver is rate limited
 * (polls included), and so is each address before authentication.
 */
export function createSsfRouter(deps: {
  issuer: string;
  streams: Streams;
  signer: SetSigner;
  authenticate: ReturnType<typeof createReceiverAuth>;
  poll: ReturnType<typeof createPoller>;
  ratePerMinute: number;
  /** Aborted at shutdown: held long polls answer at once. */
  shutdown: AbortSignal;
  log: Logger;
}): Router {
  const { streams } = deps;
  const router = new Router();
  const json = bodyParser({
    enableTypes: ['json'],
    jsonLimit: '64kb',
    encoding: 'utf-8',
    onError: (err) => {
      const tooLarge = (err as { status?: number }).status === 413;
      throw new AppError(tooLarge ? 413 : 400, 'invalid_request', tooLarge ? 'the request body is larger than 64 KiB' : 'the request body is not valid JSON');
    },
  });
  const limiter = new RateLimiterMemory({ points: deps.ratePerMinute, duration: 60 });

  function tooMany(ctx: Context, msBeforeNext: number, key: string): AppError {
    ctx.set('Retry-After', String(Math.ceil(msBeforeNext / 1000)));
    deps.log.warn({ event: 'ssf.rate_limited', key }, 'SSF rate limit reached');
    return new AppError(429, 'too_many_requests', `too many requests; retry in ${Math.ceil(msBeforeNext / 1000)} s`);
  }

  async function consume(ctx: Context, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw tooMany(ctx, err.msBeforeNext, key);
    }
  }

  /**
   * Authenticated requests count against their receiver (polls included); requests that fail
   * authentication count against their address, which is refused before authenticating once
   * it has failed too often.
   */
  async function receiver(ctx: Context, scopes: readonly string[]): Promise<Receiver> {
    const address = `ip:${ctx.ip}`;
    const used = await limiter.get(address);
    if (used && used.remainingPoints <= 0) throw tooMany(ctx, used.msBeforeNext, address);
    let found: Receiver;
    try {
      found = await deps.authenticate(ctx, scopes);
    } catch (err) {
      if (err instanceof AppError && (err.status === 401 || err.status === 403)) await limiter.penalty(address, 1);
      throw err;
    }
    await consume(ctx, `receiver:${found.clientId}`);
    return found;
  }

  const noStore = (ctx: Context): void => void ctx.set('Cache-Control', 'no-store');

  router.use(jsonErrors);

  router.get(SSF_PATHS.jwks, (ctx) => {
    ctx.body = { keys: deps.signer.publicJwks };
  });

  router.post(SSF_PATHS.streams, json, async (ctx) => {
    const who = await receiver(ctx, MANAGE);
    const created = await streams.create(who.clientId, parseBody(streamInput, ctx.request.body));
    noStore(ctx);
    ctx.status = 201;
    ctx.body = streams.render(created);
  });

  router.get(SSF_PATHS.streams, async (ctx) => {
    const who = await receiver(ctx, EITHER);
    noStore(ctx);
    if (ctx.query.stream_id !== undefined) ctx.body = streams.render(await streams.get(who.clientId, streamIdParam(ctx)));
    else ctx.body = (await streams.list(who.clientId)).map((s) => streams.render(s));
  });

  const update = (replace: boolean) => async (ctx: Context) => {
    const who = await receiver(ctx, MANAGE);
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const streamId = body && typeof body.stream_id === 'string' && body.stream_id !== '' ? body.stream_id : null;
    if (!streamId) throw invalidInput('stream_id', 'is required');
    const { stream_id: _id, ...rest } = body!;
    const updated = await streams.update(who.clientId, streamId, parseBody(streamInput, rest), { replace });
    noStore(ctx);
    ctx.body = streams.render(updated);
  };
  router.patch(SSF_PATHS.streams, json, update(false));
  router.put(SSF_PATHS.streams, json, update(true));

  router.delete(SSF_PATHS.streams, async (ctx) => {
    const who = await receiver(ctx, MANAGE);
    await streams.remove(who.clientId, streamIdParam(ctx));
    ctx.status = 204;
  });

  const statusOf = (stream: { id: string; status: string; statusReason: string | null }) => ({
    stream_id: stream.id,
    status: stream.status,
    ...(stream.statusReason ? { reason: stream.statusReason } : {}),
  });

  router.get(SSF_PATHS.status, async (ctx) => {
    const who = await receiver(ctx, EITHER);
    const stream = await streams.get(who.clientId, streamIdParam(ctx));
    await streams.touch(stream);
    noStore(ctx);
    ctx.body = statusOf(stream);
  });

  router.post(SSF_PATHS.status, json, async (ctx) => {
    const who = await receiver(ctx, MANAGE);
    const input = parseBody(statusInput, ctx.request.body);
    const stream = await streams.setStatus(who.clientId, input.stream_id, input.status as StreamStatus, input.reason ?? null);
    noStore(ctx);
    ctx.body = statusOf(stream);
  });

  router.post(SSF_PATHS.verify, json, async (ctx) => {
    const who = await receiver(ctx, EITHER);
    const input = parseBody(verificationInput, ctx.request.body);
    await streams.requestVerification(who.clientId, input.stream_id, input.state ?? null);
    ctx.status = 204;
  });

  router.post(`${SSF_PATHS.poll}/:streamId`, json, async (ctx) => {
    const who = await receiver(ctx, EITHER);
    const request = parseBody(pollInput, ctx.request.body ?? {});
    // A receiver that hangs up, or a shutdown, ends the wait.
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    ctx.res.once('close', onClose);
    const onShutdown = (): void => abort.abort();
    deps.shutdown.addEventListener('abort', onShutdown);
    try {
      const answer = await deps.poll(who, ctx.params.streamId!, request, abort.signal);
      noStore(ctx);
      // Shutting down: the connection must not linger idle after this answer.
      if (deps.shutdown.aborted) ctx.set('Connection', 'close');
      ctx.body = answer;
    } finally {
      ctx.res.off('close', onClose);
      deps.shutdown.removeEventListener('abort', onShutdown);
    }
  });

  return router;
}
