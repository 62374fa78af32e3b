import type { Db } from '../db/client.js';
import { invalidInput } from '../errors.js';
import type { Logger } from '../log.js';
import type { Receiver } from './receiver-auth.js';
import type { SetSigner } from './sets.js';
import type { StreamRow, Streams } from './streams.js';
import type { Wakeups } from './wake-ups.js';

export interface PollRequest {
  readonly maxEvents?: number | undefined;
  readonly returnImmediately?: boolean | undefined;
  readonly ack?: readonly string[] | undefined;
  readonly setErrs?: Record<string, { err: string; description?: string | undefined }> | undefined;
}

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

/** SETs answered by one poll when the receiver does not say (RFC 8936 §2.4 leaves it to us). */
const DEFAULT_MAX_EVENTS = 100;
/** A stream's state is read again this often during a long poll, whatever wakes it. */
const RECHECK_MS = 5000;

/**
 * RFC 8936 poll delivery. Acknowledgements and errors are applied first; then the stream's
 * waiting SETs are answered, oldest first. With `returnImmediately: false` (the default) and
 * nothing waiting, the request is held until something is queued for the stream or
 * `longPollSeconds` pass (RFC 6202 long polling). A SET stays queued until acknowledged (or
 * reported in `setErrs`), so one answered on a lost connection comes again on the next poll.
 */
export function createPoller(deps: { db: Db; streams: Streams; signer: SetSigner; wakeups: Wakeups; longPollSeconds: number; logger: Logger }) {
  const { db } = deps;

  async function waiting(stream: StreamRow, limit: number): Promise<{ sets: Record<string, string>; more: boolean }> {
    if (stream.status !== 'enabled') return { sets: {}, more: false };
    const rows = await db.ssfDelivery.findMany({ where: { streamId: stream.id }, orderBy: [{ createdAt: 'asc' }, { jti: 'asc' }], take: limit + 1 });
    const page = rows.slice(0, limit);
    const seqs = page.map((row) => row.seq).filter((seq): seq is number => seq !== null);
    const entries = new Map((seqs.length > 0 ? await db.revocationEvent.findMany({ where: { seq: { in: seqs } } }) : []).map((e) => [e.seq, e]));
    const sets: Record<string, string> = {};
    const dead: string[] = [];
    for (const row of page) {
      if (row.seq === null) {
        sets[row.jti] = await deps.signer.verification(stream.id, stream.clientId, row.jti, row.verifyState || null);
        continue;
      }
      const entry = entries.get(row.seq);
      const set = entry ? await deps.signer.forEntry(entry, stream.clientId, row.jti) : null;
      if (set) sets[row.jti] = set;
      else dead.push(row.jti); // pruned from the log, or never announced
    }
    if (dead.length > 0) await db.ssfDelivery.deleteMany({ where: { streamId: stream.id, jti: { in: dead } } });
    return { sets, more: rows.length > limit };
  }

  /** Resolves when something may have been queued, after `ms`, or on abort. */
  function nextChange(ms: number, signal: AbortSignal): { promise: Promise<void>; cancel: () => void } {
    let cancel = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = deps.wakeups.onChange(done, { urgent: true });
      signal.addEventListener('abort', done);
      cancel = done;
    });
    return { promise, cancel };
  }

  return async function poll(receiver: Receiver, streamId: string, request: PollRequest, signal: AbortSignal): Promise<PollResponse> {
    let stream = await deps.streams.get(receiver.clientId, streamId);
    if (stream.deliveryMethod !== 'poll') throw invalidInput('stream_id', 'this stream delivers by push (RFC 8935), not by polling');
    await deps.streams.touch(stream);
    const done = [...(request.ack ?? []), ...Object.keys(request.setErrs ?? {})];
    if (done.length > 0) await db.ssfDelivery.deleteMany({ where: { streamId: stream.id, jti: { in: done } } });
    for (const [jti, error] of Object.entries(request.setErrs ?? {})) {
      deps.logger.warn({ event: 'ssf.set_error', stream: stream.id, receiver: receiver.clientId, jti, err: error.err }, 'a receiver could not process a SET');
    }
    const limit = Math.min(request.maxEvents ?? DEFAULT_MAX_EVENTS, 1000);
    if (limit === 0) {
      const left = stream.status === 'enabled' ? await db.ssfDelivery.count({ where: { streamId: stream.id } }) : 0;
      return { sets: {}, moreAvailable: left > 0 };
    }
    const deadline = Date.now() + (request.returnImmediately === true ? 0 : deps.longPollSeconds * 1000);
    for (;;) {
      // Listen before reading, so a change committed in between still wakes this poll.
      const change = nextChange(Math.max(0, Math.min(RECHECK_MS, deadline - Date.now())), signal);
      const { sets, more } = await waiting(stream, limit);
      if (Object.keys(sets).length > 0 || Date.now() >= deadline || signal.aborted) {
        change.cancel();
        return { sets, moreAvailable: more };
      }
      await change.promise;
      stream = await deps.streams.get(receiver.clientId, streamId);
    }
  };
}
