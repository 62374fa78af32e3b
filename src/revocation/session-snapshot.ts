import type { Db } from '../db/client.js';

/** One client's part of a browser session: its grant and the `sid` its tokens carry. */
export interface SessionClient {
  readonly clientId: string;
  readonly grantId: string | null;
  /** `session.sidFor(clientId)`: the `sid` of this client's ID tokens and JWT access tokens. */
  readonly sid: string | null;
}

/** A browser session as the revocation log needs it: whose it is and which clients it holds. */
export interface SessionSnapshot {
  readonly uid: string;
  readonly accountId: string | null;
  readonly clients: readonly SessionClient[];
}

interface SessionPayload {
  authorizations?: Record<string, { grantId?: unknown; sid?: unknown }>;
}

type SessionRow = { uid: string | null; accountId: string | null; payload: string };

/** The snapshot of a stored session row (null for a row without uid). */
export function snapshotOf(row: SessionRow): SessionSnapshot | null {
  if (!row.uid) return null;
  const payload = JSON.parse(row.payload) as SessionPayload;
  const clients = Object.entries(payload.authorizations ?? {}).map(([clientId, auth]) => ({
    clientId,
    grantId: typeof auth.grantId === 'string' ? auth.grantId : null,
    sid: typeof auth.sid === 'string' ? auth.sid : null,
  }));
  return { uid: row.uid, accountId: row.accountId, clients };
}

const COLUMNS = { uid: true, accountId: true, payload: true } as const;

/** A session by its row id (the hashed cookie) or its uid; null when there is none. */
export async function readSessionSnapshot(db: Db, where: { id: string } | { uid: string }): Promise<SessionSnapshot | null> {
  const row = await db.oidcSession.findUnique({ where, select: COLUMNS });
  return row ? snapshotOf(row) : null;
}

/** Every stored session of the account. */
export async function readAccountSessions(db: Db, accountId: string): Promise<SessionSnapshot[]> {
  const rows = await db.oidcSession.findMany({ where: { accountId }, select: COLUMNS });
  return rows.map(snapshotOf).filter((s): s is SessionSnapshot => s !== null);
}
