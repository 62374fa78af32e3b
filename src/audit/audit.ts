import { randomUUID } from 'node:crypto';

import type { Db } from '../db/client.js';
import { invalidInput } from '../errors.js';

/** Who did something. `label` is for people reading the log (an e-mail, a client name). */
export interface Actor {
  readonly type: 'user' | 'admin' | 'client' | 'system' | 'anonymous';
  readonly id?: string;
  readonly label?: string;
  readonly ip?: string;
}

/** One audit entry as callers describe it. Never put a token, secret or password in it. */
export interface AuditEntry {
  readonly action: string;
  readonly actor: Actor;
  readonly outcome?: 'success' | 'failure';
  readonly target?: { readonly type: string; readonly id: string };
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditEvent {
  readonly id: string;
  readonly at: Date;
  readonly action: string;
  readonly outcome: string;
  readonly actor: { type: string; id: string | null; label: string | null };
  readonly target: { type: string; id: string } | null;
  readonly reason: string | null;
  readonly ip: string | null;
  readonly details: Record<string, unknown>;
}

export interface AuditFilter {
  readonly action?: string;
  readonly actorId?: string;
  readonly targetId?: string;
  readonly outcome?: 'success' | 'failure';
  readonly since?: Date;
  readonly until?: Date;
  readonly limit: number;
  readonly cursor?: string;
}

export interface AuditPage {
  readonly items: AuditEvent[];
  readonly nextCursor: string | null;
}

export interface Audit {
  record(entry: AuditEntry): Promise<void>;
  /** The row to create, for callers that write it inside their own transaction. */
  row(entry: AuditEntry): AuditRow;
  list(filter: AuditFilter): Promise<AuditPage>;
}

export type AuditRow = {
  id: string;
  at: Date;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  targetType: string | null;
  targetId: string | null;
  reason: string | null;
  ip: string | null;
  details: string;
};

function toRow(entry: AuditEntry): AuditRow {
  return {
    id: randomUUID(),
    at: new Date(),
    action: entry.action,
    outcome: entry.outcome ?? 'success',
    actorType: entry.actor.type,
    actorId: entry.actor.id ?? null,
    actorLabel: entry.actor.label ?? null,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    reason: entry.reason ?? null,
    ip: entry.actor.ip ?? null,
    details: JSON.stringify(entry.details ?? {}),
  };
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    action: row.action,
    outcome: row.outcome,
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
    reason: row.reason,
    ip: row.ip,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** 9999-12-31T23:59:59.999Z */
const MAX_CURSOR_MS = 253_402_300_799_999;

/** Keyset pagination: newest first, the cursor is the last entry's (time, id). */
function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    // A time outside what a real entry can have (and what PostgreSQL can compare) is no cursor.
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_CURSOR_MS || typeof id !== 'string') throw new Error('shape');
    return { at: new Date(ms), id };
  } catch {
    throw invalidInput('cursor', 'is not a cursor this server returned');
  }
}

const encodeCursor = (event: AuditRow): string => Buffer.from(JSON.stringify([event.at.getTime(), event.id])).toString('base64url');

export function createAudit(db: Db, onWriteError: (err: unknown) => void): Audit {
  /**
   * The actions recorded so far that start with `prefix`. A LIKE prefix would read "_" and "%"
   * in it as wildcards (Prisma leaves them unescaped, on SQLite and PostgreSQL alike), and "_" is common in actions
   * (client.rotate_secret); the few distinct actions are matched here instead.
   */
  async function actionsStartingWith(prefix: string): Promise<string[]> {
    const groups = await db.auditEvent.groupBy({ by: ['action'], where: { action: { startsWith: prefix } } });
    return groups.map((g) => g.action).filter((action) => action.startsWith(prefix));
  }

  return {
    row: toRow,

    async record(entry) {
      // An audit write that fails must not turn a finished sign-in into an error page; it is
      // reported to the log instead. Revocations write their entry in their own transaction.
      await db.auditEvent.create({ data: toRow(entry) }).catch(onWriteError);
    },

    async list(filter) {
      const after = filter.cursor ? decodeCursor(filter.cursor) : null;
      const rows = await db.auditEvent.findMany({
        where: {
          ...(filter.action ? { action: filter.action.endsWith('*') ? { in: await actionsStartingWith(filter.action.slice(0, -1)) } : filter.action } : {}),
          ...(filter.actorId ? { actorId: filter.actorId } : {}),
          ...(filter.targetId ? { targetId: filter.targetId } : {}),
          ...(filter.outcome ? { outcome: filter.outcome } : {}),
          AND: [
            filter.since ? { at: { gte: filter.since } } : {},
            filter.until ? { at: { lt: filter.until } } : {},
            after ? { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] } : {},
          ],
        },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: filter.limit + 1,
      });
      const page = rows.slice(0, filter.limit);
      return {
        items: page.map(toEvent),
        nextCursor: rows.length > filter.limit ? encodeCursor(page[page.length - 1]!) : null,
      };
    },
  };
}
