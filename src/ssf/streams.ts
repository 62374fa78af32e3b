import { randomBytes, randomUUID } from 'node:crypto';

import type { Db, DatabaseKind } from '../db/client.js';
import { AppError, invalidInput, notFound } from '../errors.js';
import type { RevocationLog } from '../revocation/revocation-log.js';
import { deliveredEvents, SUPPORTED_EVENTS } from './event-types.js';
import { POLL_METHOD, PUSH_METHOD, type StreamInput } from './stream-config.js';

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

export interface StreamRow {
  id: string;
  clientId: string;
  status: string;
  statusReason: string | null;
  eventsRequested: string;
  eventMask: number;
  deliveryMethod: string;
  pushEndpoint: string | null;
  pushAuthorization: string | null;
  description: string | null;
  inactivityTimeout: number;
  lastActiveAt: Date;
  lastVerificationAt: Date | null;
}

/** Seconds between two verification requests of a stream (SSF §8.1.4.2: 429 when sooner). */
export const MIN_VERIFICATION_INTERVAL_SECONDS = 5;

export interface StreamOptions {
  readonly issuer: string;
  readonly inactivityTimeoutSeconds: number;
  readonly maxStreamsPerReceiver: number;
  /** Error message for a push endpoint Tessera may not call, or null. */
  readonly checkPushEndpoint: (url: string) => string | null;
}

/**
 * SSF 1.0 §8.1.1 stream management, scoped to one receiver: a receiver sees and changes only
 * its own streams (another's stream is "not found"), and `aud` is always the receiver itself
 * (spec issue #161), never taken from the request.
 */
export interface Streams {
  create(clientId: string, input: StreamInput): Promise<StreamRow>;
  get(clientId: string, streamId: string): Promise<StreamRow>;
  list(clientId: string): Promise<StreamRow[]>;
  /** PATCH (`replace: false`) keeps members the request leaves out; PUT (`true`) resets them. */
  update(clientId: string, streamId: string, input: StreamInput, options: { replace: boolean }): Promise<StreamRow>;
  remove(clientId: string, streamId: string): Promise<void>;
  setStatus(clientId: string, streamId: string, status: StreamStatus, reason: string | null): Promise<StreamRow>;
  /** Queues a verification SET (§8.1.4); 429 when asked too soon after the last one. */
  requestVerification(clientId: string, streamId: string, state: string | null): Promise<void>;
  /** Marks the stream active (a poll or any request): streams nobody uses are removed. */
  touch(stream: StreamRow): Promise<void>;
  /** The configuration object of §8.1.1, as answered to the receiver. */
  render(stream: StreamRow): Record<string, unknown>;
  /** Removes streams inactive for longer than their timeout; the number removed. */
  removeInactive(now?: Date): Promise<number>;
}

const TOUCH_EVERY_MS = 10_000;

export function createStreams(db: Db, deps: { kind: DatabaseKind; log: RevocationLog; options: StreamOptions }): Streams {
  const { options } = deps;

  async function mine(clientId: string, streamId: string): Promise<StreamRow> {
    const row = await db.ssfStream.findUnique({ where: { id: streamId } });
    if (!row || row.clientId !== clientId) throw notFound('stream');
    return row;
  }

  function deliveryColumns(input: StreamInput): Pick<StreamRow, 'deliveryMethod' | 'pushEndpoint' | 'pushAuthorization'> {
    const delivery = input.delivery ?? { method: POLL_METHOD };
    if (delivery.method === PUSH_METHOD) {
      const problem = options.checkPushEndpoint(delivery.endpoint_url);
      if (problem) throw invalidInput('delivery.endpoint_url', problem);
      return { deliveryMethod: 'push', pushEndpoint: delivery.endpoint_url, pushAuthorization: delivery.authorization_header ?? null };
    }
    // RFC 8936: the transmitter chooses the poll URL; a receiver-given one is ignored.
    return { deliveryMethod: 'poll', pushEndpoint: null, pushAuthorization: null };
  }

  function eventColumns(requested: readonly string[] | undefined): Pick<StreamRow, 'eventsRequested' | 'eventMask'> {
    const { mask } = deliveredEvents(requested);
    return { eventsRequested: JSON.stringify(requested ?? [...SUPPORTED_EVENTS.keys()]), eventMask: mask };
  }

  /**
   * A new stream gets the entries still in the revocation window (SSF-NOTES: a new receiver
   * must not start with an empty denylist). On PostgreSQL the log is locked in SHARE mode for
   * the moment of creation: a revocation committing meanwhile either is copied here or sees
   * the new stream in its own fan-out, never neither. (SQLite has one writer at a time.)
   */
  async function replay(tx: Db, stream: { id: string; clientId: string; eventMask: number }): Promise<void> {
    if (deps.kind === 'postgresql') await tx.$executeRawUnsafe('LOCK TABLE "RevocationEvent" IN SHARE MODE');
    const now = new Date();
    const rows = await tx.revocationEvent.findMany({ where: { validUntil: { gt: now }, eventType: { gt: 0 } }, select: { seq: true, at: true, eventType: true }, orderBy: { seq: 'asc' } });
    const wanted = rows.filter((row) => (row.eventType & stream.eventMask) !== 0);
    if (wanted.length === 0) return;
    await tx.ssfDelivery.createMany({
      data: wanted.map((row) => ({ streamId: stream.id, jti: `${row.seq}.${stream.clientId}`, seq: row.seq, nextAttemptAt: row.at, createdAt: row.at })),
    });
  }

  return {
    async create(clientId, input) {
      const count = await db.ssfStream.count({ where: { clientId } });
      if (count >= options.maxStreamsPerReceiver) {
        throw new AppError(429, 'too_many_streams', `a receiver may have at most ${options.maxStreamsPerReceiver} streams; delete unused ones first`);
      }
      const data = {
        id: randomBytes(16).toString('base64url'),
        clientId,
        ...eventColumns(input.events_requested),
        ...deliveryColumns(input),
        description: input.description ?? null,
        inactivityTimeout: options.inactivityTimeoutSeconds,
      };
      const created = await db.$transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        const row = await tx.ssfStream.create({ data });
        await replay(tx, row);
        return row;
      });
      deps.log.committed(`stream:${created.id}`);
      return created;
    },
    get: mine,
    list: (clientId) => db.ssfStream.findMany({ where: { clientId }, orderBy: { createdAt: 'asc' } }),
    async update(clientId, streamId, input, { replace }) {
      const current = await mine(clientId, streamId);
      const data: Partial<StreamRow> = {};
      if (replace || input.events_requested !== undefined) Object.assign(data, eventColumns(input.events_requested));
      if (replace || input.delivery !== undefined) Object.assign(data, deliveryColumns(input));
      if (replace || input.description !== undefined) data.description = input.description ?? null;
      const row = await db.ssfStream.update({ where: { id: current.id }, data });
      deps.log.committed(`stream:${row.id}`);
      return row;
    },
    async remove(clientId, streamId) {
      const current = await mine(clientId, streamId);
      await db.$transaction([db.ssfDelivery.deleteMany({ where: { streamId: current.id } }), db.ssfStream.delete({ where: { id: current.id } })]);
    },
    async setStatus(clientId, streamId, status, reason) {
      const current = await mine(clientId, streamId);
      // Disabled: the transmitter drops events (§8.1.2), so nothing waits for the stream.
      const row = await db.$transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        if (status === 'disabled') await tx.ssfDelivery.deleteMany({ where: { streamId: current.id } });
        return tx.ssfStream.update({ where: { id: current.id }, data: { status, statusReason: reason } });
      });
      deps.log.committed(`stream:${row.id}`);
      return row;
    },
    async requestVerification(clientId, streamId, state) {
      const current = await mine(clientId, streamId);
      const now = new Date();
      if (current.lastVerificationAt && now.getTime() - current.lastVerificationAt.getTime() < MIN_VERIFICATION_INTERVAL_SECONDS * 1000) {
        throw new AppError(429, 'too_many_requests', `verification may be requested once every ${MIN_VERIFICATION_INTERVAL_SECONDS} seconds`);
      }
      // SSF §8.1.4: sent whatever events_requested says (also on a paused stream, once enabled).
      await db.$transaction([
        db.ssfDelivery.create({ data: { streamId: current.id, jti: `v.${randomUUID()}`, verifyState: state ?? '', nextAttemptAt: now, createdAt: now } }),
        db.ssfStream.update({ where: { id: current.id }, data: { lastVerificationAt: now, lastActiveAt: now } }),
      ]);
      deps.log.committed(`stream:${current.id}`);
    },
    async touch(stream) {
      const now = new Date();
      if (now.getTime() - stream.lastActiveAt.getTime() < TOUCH_EVERY_MS) return;
      await db.ssfStream.updateMany({ where: { id: stream.id }, data: { lastActiveAt: now } });
    },
    render(stream) {
      const requested = JSON.parse(stream.eventsRequested) as string[];
      return {
        stream_id: stream.id,
        iss: options.issuer,
        aud: stream.clientId,
        events_supported: [...SUPPORTED_EVENTS.keys()],
        events_requested: requested,
        events_delivered: deliveredEvents(requested).delivered,
        delivery: stream.deliveryMethod === 'push'
          // The authorization header is kept for pushing, never shown again (Keycloak PR #50091).
          ? { method: PUSH_METHOD, endpoint_url: stream.pushEndpoint }
          : { method: POLL_METHOD, endpoint_url: `${options.issuer}/ssf/poll/${stream.id}` },
        min_verification_interval: MIN_VERIFICATION_INTERVAL_SECONDS,
        inactivity_timeout: stream.inactivityTimeout,
        ...(stream.description !== null ? { description: stream.description } : {}),
      };
    },
    async removeInactive(now = new Date()) {
      const streams = await db.ssfStream.findMany({ select: { id: true, lastActiveAt: true, inactivityTimeout: true } });
      const stale = streams.filter((s) => now.getTime() - s.lastActiveAt.getTime() > s.inactivityTimeout * 1000).map((s) => s.id);
      if (stale.length === 0) return 0;
      await db.$transaction([db.ssfDelivery.deleteMany({ where: { streamId: { in: stale } } }), db.ssfStream.deleteMany({ where: { id: { in: stale } } })]);
      return stale.length;
    },
  };
}
