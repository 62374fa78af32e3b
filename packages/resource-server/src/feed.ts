import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';

import { RevocationFeedStaleError, SsfError, StreamGoneError, type StaleReason } from './errors.js';
import { EVENT_TYPES, STREAM_UPDATED } from './event-types.js';
import type { DecodedJwt, IsRevoked, KoaMiddleware, RevocationFeed, RevocationFeedHealth, RevocationFeedOptions } from './feed-types.js';
import { koaMiddleware } from './koa.js';
import { levels, type Logger } from './logger.js';
import { RevocationSet, type SetClaims, type TokenClaims } from './revocation-set.js';
import { SsfClient, type PollAnswer, type PollRequest, type StreamConfiguration } from './ssf-client.js';
import { SetVerificationError, verifySet } from './verify-set.js';


const MAX_EVENTS = 1000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const SWEEP_EVERY_MS = 30_000;
/** Entries looked at per sweep slice (about a millisecond). */
const SWEEP_SLICE = 20_000;
/** How long a SET signed with an unknown key stays unacknowledged (the key set may be refreshed meanwhile) before it is refused. */
const UNKNOWN_KEY_GRACE_MS = 60_000;
/** Abort reason of a long poll replaced by a new poll (not a failure). */
const RESTART = Symbol('restart long poll');
/** Outcomes of a status check that are not a status. */
const GONE = Symbol('stream gone');
const FAILED = Symbol('status check failed');
/** Same failure logged again at most this often. */
const LOG_REPEAT_MS = 60_000;

/** Starts following Tessera's revocations. Call ready() before serving (or accept 503s until it resolves). */
export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  return new Feed(options).api();
}

class Feed {
  private readonly set: RevocationSet;
  private readonly client: SsfClient;
  private readonly log: Required<Logger>;
  private readonly staleAfterMs: number;
  private readonly statusEveryMs: number;
  private readonly readyTimeoutMs: number;
  private readonly failOpen: boolean;
  private readonly clientId: string;
  private readonly description: string;
  private readonly fetchImpl: typeof fetch | undefined;

  /** Until when (epoch ms) revoked() answers: last contact + staleAfter once ready; 0 before ready and once closed. */
  private freshUntil = 0;
  private lastContact = 0;
  private isReady = false;
  private closed = false;
  private readonly stop = new AbortController();
  private readonly readyPromise: Promise<void>;
  private settleReady!: (error?: Error) => void;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private lastError: Error | undefined;
  private sweeping = false;

  private stream: StreamConfiguration | undefined;
  private streamCreatedAt = 0;
  /** Pause before the next attempt after a failure: 250 ms doubling to 5 s; back to 250 ms on contact. */
  private backoff = BACKOFF_MIN_MS;
  private keys: JWTVerifyGetKey | undefined;
  private issuer: string | undefined;
  private ack: string[] = [];
  private setErrs: PollRequest['setErrs'] = {};
  /** SETs received but neither applied nor refused (key set unreachable...): while any, the feed is behind and not fresh. */
  private readonly unprocessed = new Set<string>();
  private readonly unknownKeySince = new Map<string, number>();
  private lastFailure: { message: string; at: number; count: number } | undefined;

  constructor(options: RevocationFeedOptions) {
    for (const name of ['issuer', 'clientId', 'clientSecret'] as const) {
      if (typeof options[name] !== 'string' || options[name].length === 0) throw new TypeError(`createRevocationFeed: option ${name} is required`);
    }
    if (!URL.canParse(options.issuer)) throw new TypeError('createRevocationFeed: issuer must be a URL');
    const staleAfterSeconds = options.staleAfterSeconds ?? 30;
    if (!Number.isFinite(staleAfterSeconds) || staleAfterSeconds <= 0) throw new TypeError('createRevocationFeed: staleAfterSeconds must be a positive number');
    const readyTimeoutSeconds = options.readyTimeoutSeconds ?? 30;
    if (!Number.isFinite(readyTimeoutSeconds) || readyTimeoutSeconds <= 0) throw new TypeError('createRevocationFeed: readyTimeoutSeconds must be a positive number');

    this.set = new RevocationSet({ maxEntries: options.maxEntries, maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds });
    this.fetchImpl = options.fetch;
    this.client = new SsfClient({ issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret, fetch: options.fetch });
    this.log = levels(options.logger);
    this.staleAfterMs = staleAfterSeconds * 1000;
    this.statusEveryMs = Math.min(10_000, Math.max(1000, this.staleAfterMs / 3));
    this.readyTimeoutMs = readyTimeoutSeconds * 1000;
    this.failOpen = options.failOpen === true;
    this.clientId = options.clientId;
    this.description = options.description ?? '@tessera/resource-server';

    this.readyPromise = new Promise<void>((resolve, reject) => {
      let settled = false;
      this.settleReady = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(this.readyTimer);
        if (error) reject(error);
        else resolve();
      };
    });
    // Nobody has to call ready(): its rejection must not count as unhandled.
    this.readyPromise.catch(() => {});

    this.sweeper = setInterval(() => this.sweepInSlices(), SWEEP_EVERY_MS);
    this.sweeper.unref();
    this.readyTimer = setTimeout(() => {
      const cause = this.lastError;
      const why = cause === undefined ? 'no answer yet' : cause.message;
      this.settleReady(new Error(`@tessera/resource-server: not caught up with Tessera within ${readyTimeoutSeconds} s (still trying): ${why}`, { cause }));
    }, this.readyTimeoutMs);
    this.readyTimer.unref();
    this.loop = this.run();
  }

  api(): RevocationFeed {
    const revoked = (payload: TokenClaims): boolean => {
      const now = Date.now();
      if (now > this.freshUntil || now <= this.set.overflowUntil * 1000) {
        if (this.failOpen) return this.set.matches(payload);
        throw new RevocationFeedStaleError(this.staleReason(now));
      }
      return this.set.matches(payload);
    };
    const isRevoked = ((_req: unknown, token: DecodedJwt | undefined): boolean => {
      const payload = token?.payload;
      // express-jwt hands over a string payload for non-JSON tokens: nothing here can match it, but staleness still applies.
      return revoked(typeof payload === 'object' && payload !== null ? (payload as TokenClaims) : {});
    }) as IsRevoked;
    return Object.freeze({
      ready: () => this.readyPromise,
      isRevoked,
      revoked,
      koa: (options: { key?: string } = {}) => koaMiddleware(revoked, options.key ?? 'user'),
      health: () => this.health(),
      close: () => this.close(),
    });
  }

  private staleReason(now: number): StaleReason {
    if (this.closed) return 'closed';
    if (!this.isReady) return 'not_ready';
    if (now <= this.set.overflowUntil * 1000) return 'overflowed';
    return 'no_contact';
  }

  private health(): RevocationFeedHealth {
    const now = Date.now();
    const healthy = now <= this.freshUntil && now > this.set.overflowUntil * 1000;
    return {
      healthy,
      reason: healthy ? undefined : this.staleReason(now),
      ready: this.isReady,
      lastContact: this.lastContact === 0 ? undefined : new Date(this.lastContact),
      entries: this.set.size,
      streamId: this.stream?.stream_id,
    };
  }

  /** A successful answer from Tessera proving the stream is read and nothing received is left unapplied. */
  private contact(): void {
    if (this.unprocessed.size !== 0 || this.closed) return;
    this.recovered();
    this.backoff = BACKOFF_MIN_MS;
    this.lastContact = Date.now();
    if (this.isReady) this.freshUntil = this.lastContact + this.staleAfterMs;
  }

  private close(): Promise<void> {
    this.shutdown();
    this.closing ??= (async () => {
      await this.loop;
      const stream = this.stream;
      if (stream === undefined) return;
      // Free the stream at Tessera rather than leave it until its inactivity timeout (best effort, 2 s at most).
      this.stream = undefined;
      await this.client.deleteStream(stream.stream_id, AbortSignal.timeout(2000)).catch((err: unknown) => {
        this.log.info(`could not remove stream ${stream.stream_id}: ${err instanceof Error ? err.message : String(err)}`);
      });
    })();
    return this.closing;
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.freshUntil = 0;
    this.stop.abort(new Error('the revocation feed is closed'));
    clearInterval(this.sweeper);
    this.settleReady(new Error('@tessera/resource-server: the revocation feed was closed before it was ready'));
  }

  private async run(): Promise<void> {
    let caughtUp = false;
    while (!this.closed) {
      try {
        if (this.stream === undefined) {
          await this.openStream();
          caughtUp = false;
        }
        const longPoll = caughtUp && this.unprocessed.size === 0;
        const answer = await this.pollOnce(this.stream as StreamConfiguration, longPoll);
        await this.process(answer);
        if (this.stream === undefined) {
          // Disabled: a new stream next.
          this.backoff = await this.pauseIfStreamWasNew(this.backoff);
          continue;
        }
        if (this.unprocessed.size !== 0) {
          // Some SETs could not be verified for now: poll again (they are delivered again) after a pause.
          caughtUp = false;
          await this.pause(this.backoff);
          this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
          continue;
        }
        this.backoff = BACKOFF_MIN_MS;
        this.contact();
        caughtUp = !answer.moreAvailable;
        if (caughtUp && !this.isReady) {
          this.isReady = true;
          this.freshUntil = this.lastContact + this.staleAfterMs;
          this.log.info(`caught up with stream ${this.stream?.stream_id ?? '?'}`);
          this.settleReady();
        }
      } catch (err) {
        if (this.closed) break;
        if (err === RESTART) {
          caughtUp = false;
          continue;
        }
        if (err instanceof StreamGoneError) {
          this.log.warn(`${err.message}; creating a new stream`);
          this.dropStream();
          caughtUp = false;
          this.backoff = await this.pauseIfStreamWasNew(this.backoff);
          continue;
        }
        const error = err instanceof Error ? err : new Error(String(err));
        this.lastError = error;
        if (err instanceof SsfError && err.permanent) {
          if (!this.isReady) {
            this.log.error(`${error.message}; giving up`);
            this.settleReady(error);
            this.shutdown();
            break;
          }
          // Once running, keep trying (credentials or permissions may be fixed), but without the acknowledgements
          // of the refused request in case they are what Tessera refuses: unacknowledged SETs come again.
          this.ack = [];
          this.setErrs = {};
        }
        this.failed(error);
        await this.pause(this.backoff);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  private async openStream(): Promise<void> {
    const signal = this.stop.signal;
    const metadata = await this.client.metadata(signal);
    if (this.keys === undefined || this.issuer !== metadata.issuer) {
      this.issuer = metadata.issuer;
      const jwksOptions: Parameters<typeof createRemoteJWKSet>[1] = { cooldownDuration: 5000, timeoutDuration: 10_000 };
      if (this.fetchImpl !== undefined) (jwksOptions as Record<symbol, unknown>)[customFetch] = this.fetchImpl;
      this.keys = createRemoteJWKSet(new URL(metadata.jwks_uri), jwksOptions);
    }
    const stream = await this.client.createStream(EVENT_TYPES, this.description, signal);
    this.stream = stream;
    this.streamCreatedAt = Date.now();
    this.log.info(`created stream ${stream.stream_id}${typeof stream.inactivity_timeout === 'number' ? ` (inactivity timeout ${stream.inactivity_timeout} s)` : ''}`);
  }

  /** A stream that ends right after it was created is replaced after a pause (no loop of creations); others at once. */
  private async pauseIfStreamWasNew(backoff: number): Promise<number> {
    if (Date.now() - this.streamCreatedAt >= BACKOFF_MAX_MS) return BACKOFF_MIN_MS;
    await this.pause(backoff);
    return Math.min(backoff * 2, BACKOFF_MAX_MS);
  }

  private dropStream(): void {
    this.stream = undefined;
    this.ack = [];
    this.setErrs = {};
    // A new stream delivers the recent events again.
    this.unprocessed.clear();
    this.unknownKeySince.clear();
  }

  /** One poll, acknowledging what the previous answer brought. A long poll checks the stream's status meanwhile. */
  private async pollOnce(stream: StreamConfiguration, longPoll: boolean): Promise<PollAnswer> {
    const request: PollRequest = { maxEvents: MAX_EVENTS, returnImmediately: !longPoll, ack: this.ack, setErrs: this.setErrs };
    if (!longPoll) {
      const answer = await this.client.poll(stream.delivery.endpoint_url, request, this.stop.signal);
      this.ack = [];
      this.setErrs = {};
      return answer;
    }

    const controller = new AbortController();
    const abort = () => controller.abort(this.stop.signal.reason);
    this.stop.signal.addEventListener('abort', abort, { once: true });
    let checking = false;
    let statusFailed = false;
    const statusTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.checkStatus(stream, controller.signal).then((result) => {
        checking = false;
        if (controller.signal.aborted || this.stream !== stream) return;
        if (result === GONE) controller.abort(new StreamGoneError(`stream ${stream.stream_id} is gone (the status endpoint answered 404)`));
        else if (result === FAILED) statusFailed = true;
        // Paused or disabled: Tessera delivers nothing on it (polls answer empty), so it is replaced.
        else if (result !== 'enabled') controller.abort(new StreamGoneError(`stream ${stream.stream_id} is ${result}`));
        // Tessera answers again after failing to: the pending long poll may be stuck on a dead connection, so
        // it is replaced (an immediate poll first) rather than trusted; contact resumes with that poll's answer.
        else if (statusFailed) controller.abort(RESTART);
        else this.contact();
      });
    }, this.statusEveryMs);
    statusTimer.unref();
    try {
      const answer = await this.client.poll(stream.delivery.endpoint_url, request, controller.signal);
      this.ack = [];
      this.setErrs = {};
      return answer;
    } catch (err) {
      const reason: unknown = controller.signal.reason;
      if (!this.stop.signal.aborted && (reason === RESTART || reason instanceof StreamGoneError)) throw reason;
      throw err;
    } finally {
      clearInterval(statusTimer);
      this.stop.signal.removeEventListener('abort', abort);
    }
  }

  /** The stream's status while a long poll is pending ('enabled', 'paused'...), or GONE (404), or FAILED. */
  private async checkStatus(stream: StreamConfiguration, longPoll: AbortSignal): Promise<string | typeof GONE | typeof FAILED> {
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('the status check timed out'));
    longPoll.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, this.statusEveryMs);
    try {
      const { status } = await this.client.status(stream.stream_id, controller.signal);
      return status ?? 'enabled';
    } catch (err) {
      if (err instanceof StreamGoneError) return GONE;
      if (!longPoll.aborted) this.log.info(`status check failed: ${err instanceof Error ? err.message : String(err)}`);
      return FAILED;
    } finally {
      clearTimeout(timer);
      longPoll.removeEventListener('abort', abort);
    }
  }

  /** Verifies and applies every SET of an answer; fills the next poll's ack and setErrs. */
  private async process(answer: PollAnswer): Promise<void> {
    const entries = Object.entries(answer.sets);
    if (entries.length === 0) return;
    const keys = this.keys as JWTVerifyGetKey;
    const issuer = this.issuer as string;
    const results = await Promise.allSettled(entries.map(([, jws]) => verifySet(jws, { issuer, audience: this.clientId, key: keys })));
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    let streamDisabled: string | undefined;
    for (let i = 0; i < entries.length; i++) {
      const jti = (entries[i] as [string, string])[0];
      const result = results[i] as PromiseSettledResult<SetClaims>;
      if (result.status === 'fulfilled') {
        const set = result.value;
        this.settled(jti);
        if (set.jti !== jti) {
          this.refuse(jti, new SetVerificationError('invalid_request', 'the SET jti differs from its key in the poll answer'));
          continue;
        }
        this.ack.push(jti);
        const effect = this.set.apply(set, nowSeconds);
        if (effect.effect === 'ignored') this.log.info(`SET ${jti} has no effect: ${effect.reason}`);
        else if (effect.effect === 'overflowed') this.log.error(`maxEntries (${this.set.maxEntries}) reached: SET ${jti} could not be kept; failing closed until ${new Date(effect.expiresAt * 1000).toISOString()}`);
        const update = set.events[STREAM_UPDATED] as Record<string, unknown> | undefined;
        if (update !== undefined && typeof update.status === 'string' && update.status !== 'enabled') streamDisabled = update.status;
        continue;
      }
      const error: unknown = result.reason;
      if (error instanceof SetVerificationError) {
        const since = this.unknownKeySince.get(jti) ?? now;
        if (error.retryable && now - since < UNKNOWN_KEY_GRACE_MS) {
          this.unknownKeySince.set(jti, since);
          this.unprocessed.add(jti);
          this.failed(new Error(`SET ${jti}: ${error.message}; waiting for the key set to be refreshed`));
          continue;
        }
        this.settled(jti);
        this.refuse(jti, error);
        continue;
      }
      this.unprocessed.add(jti);
      this.failed(new Error(`SET ${jti} could not be verified (will retry): ${error instanceof Error ? error.message : String(error)}`));
    }
    if (streamDisabled !== undefined) {
      this.log.warn(`stream ${this.stream?.stream_id ?? '?'} is ${streamDisabled}; creating a new one`);
      this.dropStream();
    }
  }

  private settled(jti: string): void {
    this.unprocessed.delete(jti);
    this.unknownKeySince.delete(jti);
  }

  private refuse(jti: string, error: SetVerificationError): void {
    this.setErrs[jti] = { err: error.err, description: error.message };
    this.log.warn(`refused SET ${jti} (${error.err}): ${error.message}`);
  }

  /** Logs a failure, the same one again at most once a minute. */
  private failed(error: Error): void {
    const now = Date.now();
    const last = this.lastFailure;
    if (last !== undefined && last.message === error.message && now - last.at < LOG_REPEAT_MS) {
      last.count++;
      return;
    }
    this.lastFailure = { message: error.message, at: now, count: 1 };
    this.log.warn(error.message);
  }

  private recovered(): void {
    if (this.lastFailure === undefined) return;
    this.log.info('in contact with Tessera again');
    this.lastFailure = undefined;
  }

  /** Drops expired entries a slice at a time, so that a large set never blocks the event loop for long. */
  private sweepInSlices(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    const steps = this.set.sweeper(Math.floor(Date.now() / 1000), SWEEP_SLICE);
    const step = () => {
      if (this.closed || steps.next().done === true) this.sweeping = false;
      else setImmediate(step);
    };
    step();
  }

  /** Waits (ms) unless the feed is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const jittered = ms * (0.8 + Math.random() * 0.4);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, jittered);
      this.stop.signal.addEventListener('abort', done, { once: true });
    });
  }
}
