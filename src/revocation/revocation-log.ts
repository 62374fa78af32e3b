import { randomUUID } from 'node:crypto';

import type { Db, DatabaseKind } from '../db/client.js';

/**
 * The SSF event type an entry is announced as, as a bit (streams keep the bits they asked for
 * in `SsfStream.eventMask`, so fan-out is one bitwise test in SQL). 0: not announced.
 */
export const EVENT_BITS = {
  sessionRevoked: 1,
  credentialChange: 2,
  tokenRevoked: 4,
} as const;

/**
 * What an entry says is revoked. A resource server matches tokens against it:
 * - `session`: the tokens carrying `sid` (one client's part of one browser session);
 * - `subject`: every token of `accountId` issued at or before `at` (sign out everywhere, disable, …);
 * - `grant`: the tokens of `accountId` for `clientId` issued at or before `at` (a grant revoked
 *   that no live session names, e.g. an `offline_access` grant);
 * - `client`: every token of `clientId` issued at or before `at` (client disabled or deleted);
 * - `token`: the JWT access token `jti`;
 * - `credential`: the account's password changed (announced, revokes nothing by itself);
 * - `opaque`: an opaque token was revoked (recorded, never announced: no resource server can
 *   hold one without introspecting it, and the log never holds a usable token).
 */
export type EntryKind = 'session' | 'subject' | 'grant' | 'client' | 'token' | 'credential' | 'opaque';

/** CAEP `initiating_entity`. */
export type Initiator = 'user' | 'admin' | 'policy' | 'system';

export interface LogEntry {
  readonly kind: EntryKind;
  /** One of EVENT_BITS, or 0. */
  readonly eventType: number;
  readonly accountId?: string | null;
  readonly clientId?: string | null;
  readonly sid?: string | null;
  readonly jti?: string | null;
  /** The entry ended a client's session: the client gets a back-channel logout token. */
  readonly backchannel?: boolean;
  /** When no token it matches can be valid any more; default: now + the revocation window. */
  readonly validUntil?: Date;
}

export interface AppendOptions {
  readonly initiator: Initiator;
  readonly reason: string;
  /** `windowSeconds()`, read before the transaction (it reads the APIs' lifetimes). */
  readonly windowSeconds: number;
}

export interface RevocationLog {
  /**
   * Appends entries inside the caller's transaction `tx`, and queues what they must send: one
   * SSF delivery per entry and stream that asked for its event type (streams not disabled),
   * one back-channel delivery per entry that ended a client's session. Returns the `txn` that
   * groups them (the SETs of one revocation share it).
   */
  append(tx: Db, entries: readonly LogEntry[], options: AppendOptions): Promise<string | null>;
  /** Seconds a new entry is kept: the longest access-token lifetime now, plus clock skew. */
  windowSeconds(): Promise<number>;
  /** Tells this process's listeners (long polls, delivery workers) that `txn` committed. */
  committed(txn: string): void;
  onCommitted(listener: (txn: string) => void): () => void;
}

/** Clock skew allowed between Tessera and resource servers, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;

export const REVOCATION_CHANNEL = 'tessera_revocations';

export function createRevocationLog(deps: {
  kind: DatabaseKind;
  /** The longest lifetime, in seconds, of any access token Tessera issues now. */
  longestTokenLifetimeSeconds: () => Promise<number>;
}): RevocationLog {
  const listeners = new Set<(txn: string) => void>();

  async function windowSeconds(): Promise<number> {
    return (await deps.longestTokenLifetimeSeconds()) + CLOCK_SKEW_SECONDS;
  }

  return {
    windowSeconds,
    async append(tx, entries, options) {
      if (entries.length === 0) return null;
      const txn = randomUUID();
      const at = new Date();
      const defaultUntil = new Date(at.getTime() + options.windowSeconds * 1000);
      await tx.revocationEvent.createMany({
        data: entries.map((entry) => ({
          txn,
          at,
          kind: entry.kind,
          eventType: entry.eventType,
          accountId: entry.accountId ?? null,
          clientId: entry.clientId ?? null,
          sid: entry.sid ?? null,
          jti: entry.jti ?? null,
          backchannel: entry.backchannel === true,
          initiator: options.initiator,
          reason: options.reason.slice(0, 500),
          validUntil: entry.validUntil ?? defaultUntil,
        })),
      });
      // Fan-out in the database, in the same transaction: a stream sees an entry exactly when
      // the revocation committed. A SET's jti is the entry's seq and the receiver: the same for
      // each of a receiver's streams, so it is signed once per receiver.
      if (entries.some((entry) => entry.eventType !== 0)) {
        await tx.$executeRaw`INSERT INTO "SsfDelivery" ("streamId", "jti", "seq", "attempts", "nextAttemptAt", "createdAt")
          SELECT s."id", CAST(e."seq" AS TEXT) || '.' || s."clientId", e."seq", 0, e."at", e."at"
          FROM "RevocationEvent" e JOIN "SsfStream" s ON (s."eventMask" & e."eventType") <> 0 AND s."status" <> 'disabled'
          WHERE e."txn" = ${txn}`;
      }
      if (entries.some((entry) => entry.backchannel === true)) {
        await tx.$executeRaw`INSERT INTO "BackchannelDelivery" ("seq", "attempts", "nextAttemptAt")
          SELECT e."seq", 0, e."at" FROM "RevocationEvent" e WHERE e."txn" = ${txn} AND e."backchannel" = ${true}`;
      }
      // PostgreSQL delivers a NOTIFY at commit, to every instance listening (src/ssf/wake-ups.ts).
      if (deps.kind === 'postgresql') await tx.$executeRaw`SELECT pg_notify(${REVOCATION_CHANNEL}, ${txn})`;
      return txn;
    },
    committed(txn) {
      for (const listener of listeners) listener(txn);
    },
    onCommitted(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
