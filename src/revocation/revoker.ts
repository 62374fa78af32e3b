import type { Audit, AuditEntry } from '../audit/audit.js';
import type { TokenStats } from '../audit/token-stats.js';
import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import { GRANT_BOUND_MODELS, MODEL_NAMES, modelTable, type ModelName } from '../oidc/model-tables.js';
import { CLOCK_SKEW_SECONDS, EVENT_BITS, type Initiator, type LogEntry, type RevocationLog } from './revocation-log.js';
import { readAccountSessions, readSessionSnapshot, type SessionSnapshot } from './session-snapshot.js';

export interface RevocationSummary {
  readonly grants: number;
  readonly sessions: number;
  /** Access and refresh tokens (opaque rows and JWT records) that stopped being valid. */
  readonly tokens: number;
}

/**
 * Why a revocation happens, for its audit entry (the counts are added to its details) and its
 * revocation-log entries (`initiator` defaults from the actor: a user is `user`, an admin
 * `admin`, anything else `system`).
 */
export type RevocationCause = Omit<AuditEntry, 'outcome'> & { readonly initiator?: Initiator };

/** A JWT access token being revoked, as its verified claims say. */
export interface RevokedJwt {
  readonly jti: string;
  readonly clientId: string;
  readonly sub?: string | undefined;
  /** Expiry, seconds since 1970. */
  readonly exp: number;
}

export interface GrantRevocationOptions {
  /**
   * Sessions as they were before oidc-provider changed them (a logout has already removed the
   * client or destroyed the session by the time Tessera revokes): where each grant's `sid` is
   * found. Sessions still stored are read as well.
   */
  readonly sessions?: readonly SessionSnapshot[];
  /**
   * Sessions that ended although some of their grants are kept (LOGOUT_REVOKES_OFFLINE=false):
   * every client of theirs whose grant is not revoked here still gets a back-channel logout.
   */
  readonly endedSessions?: readonly SessionSnapshot[];
}

/**
 * The one revocation path, and the only writer of the revocation log: logout (every choice of
 * the logout page), "sign out everywhere", RFC 7009, replay detection, the CLI and the admin API
 * and console all go through here. Each call commits in a single database transaction before
 * it returns — the deletions, the JWT denylist entries, the revocation-log entries (with the
 * SSF and back-channel deliveries they queue), the audit entry and the dashboard's revoked count
 * together — so the very next introspection, userinfo or refresh request sees the tokens gone,
 * every resource server following the feed is told, and no revocation happens without its
 * audit entry.
 */
export interface Revoker {
  /** Revokes grants and everything issued under them (all token kinds, JWT records). */
  revokeGrants(grantIds: readonly string[], cause: RevocationCause, options?: GrantRevocationOptions): Promise<RevocationSummary>;
  /** Revokes a browser session: its row, the listed grants and every token bound to it. */
  revokeSession(session: string | SessionSnapshot, grantIds: readonly string[], cause: RevocationCause): Promise<RevocationSummary>;
  /** "Sign out everywhere": every session and grant of the account. */
  revokeAccount(accountId: string, cause: RevocationCause, options?: { sessions?: readonly SessionSnapshot[]; credentialChanged?: boolean }): Promise<RevocationSummary>;
  /** Every grant, session binding and token issued to a client (client disabled or deleted). */
  revokeClient(clientId: string, cause: RevocationCause): Promise<RevocationSummary>;
  /** RFC 7009 for one JWT access token: denylisted by jti until it expires. */
  revokeJwtAccessToken(token: RevokedJwt, cause: RevocationCause): Promise<RevocationSummary>;
  /** RFC 7009 for one opaque access token (user or client_credentials): deleted. */
  revokeOpaqueToken(token: string, cause: RevocationCause): Promise<RevocationSummary>;
}

/** Token models counted as "tokens" in a summary. */
const TOKEN_MODELS = new Set<ModelName>(['AccessToken', 'RefreshToken', 'ClientCredentials']);

type Op = { label: 'grants' | 'sessions' | 'tokens' | null; op: Promise<unknown> };

const labelOf = (name: ModelName): Op['label'] => (name === 'Grant' ? 'grants' : name === 'Session' ? 'sessions' : TOKEN_MODELS.has(name) ? 'tokens' : null);

function deleteWhere(tx: Db, models: readonly ModelName[], where: Record<string, unknown>): Op[] {
  return models.map((name) => ({ label: labelOf(name), op: modelTable(tx, name).deleteMany({ where }) }));
}

function denylistJwts(tx: Db, where: Record<string, unknown>): Op {
  const now = new Date();
  return { label: 'tokens', op: tx.jwtAccessToken.updateMany({ where: { ...where, revokedAt: null, expiresAt: { gt: now } }, data: { revokedAt: now } }) };
}

function grantOps(tx: Db, grantIds: readonly string[]): Op[] {
  if (grantIds.length === 0) return [];
  const where = { grantId: { in: [...grantIds] } };
  return [...deleteWhere(tx, GRANT_BOUND_MODELS, where), denylistJwts(tx, where)];
}

function initiatorOf(cause: RevocationCause): Initiator {
  if (cause.initiator) return cause.initiator;
  return cause.actor.type === 'user' ? 'user' : cause.actor.type === 'admin' ? 'admin' : 'system';
}

/** One client's part of a session ended: SSF `session-revoked` by sid, and a back-channel logout. */
function sessionEntries(session: SessionSnapshot, announce: boolean, only?: (clientId: string) => boolean): LogEntry[] {
  return session.clients
    .filter((client) => client.sid !== null && (!only || only(client.clientId)))
    .map((client) => ({
      kind: 'session' as const,
      eventType: announce ? EVENT_BITS.sessionRevoked : 0,
      accountId: session.accountId,
      clientId: client.clientId,
      sid: client.sid,
      backchannel: true,
    }));
}

export function createRevoker(db: Db, deps: { audit: Audit; stats: TokenStats; log: RevocationLog }): Revoker {
  async function grantIdsWhere(where: Record<string, unknown>): Promise<string[]> {
    const ids = new Set<string>();
    for (const name of GRANT_BOUND_MODELS) {
      const rows = await modelTable(db, name).findMany({ where, select: { grantId: true } });
      for (const row of rows) if (row.grantId) ids.add(row.grantId);
    }
    return [...ids];
  }

  /** Unique sessions by uid; the ones given first (snapshots from before a logout) win. */
  function uniqueSessions(...lists: (readonly SessionSnapshot[])[]): SessionSnapshot[] {
    const byUid = new Map<string, SessionSnapshot>();
    for (const list of lists) for (const session of list) if (!byUid.has(session.uid)) byUid.set(session.uid, session);
    return [...byUid.values()];
  }

  /**
   * The log entries of revoking grants: a grant some session names is that client's part of the
   * session (by its sid); any other grant is every token of its account and client issued so far.
   */
  async function grantEntries(grantIds: readonly string[], known: readonly SessionSnapshot[]): Promise<LogEntry[]> {
    if (grantIds.length === 0) return [];
    const rows = await db.oidcGrant.findMany({ where: { grantId: { in: [...grantIds] } }, select: { grantId: true, accountId: true, clientId: true } });
    const accounts = new Set(rows.map((row) => row.accountId).filter((id): id is string => id !== null));
    for (const session of known) if (session.accountId) accounts.add(session.accountId);
    const stored = (await Promise.all([...accounts].map((id) => readAccountSessions(db, id)))).flat();
    const sessions = uniqueSessions(known, stored);
    const entries: LogEntry[] = [];
    for (const grantId of new Set(grantIds)) {
      const row = rows.find((r) => r.grantId === grantId);
      const owner = sessions.find((s) => s.clients.some((c) => c.grantId === grantId));
      const client = owner?.clients.find((c) => c.grantId === grantId);
      const accountId = row?.accountId ?? owner?.accountId ?? null;
      const clientId = row?.clientId ?? client?.clientId ?? null;
      if (client?.sid && owner) {
        entries.push({ kind: 'session', eventType: EVENT_BITS.sessionRevoked, accountId, clientId, sid: client.sid, backchannel: true });
      } else if (accountId && clientId) {
        entries.push({ kind: 'grant', eventType: EVENT_BITS.sessionRevoked, accountId, clientId });
      }
    }
    return entries;
  }

  /**
   * Runs the statements `build` makes on the transaction client, in one transaction, and sums
   * what they removed. The revocation-log entries, the audit entry (with those totals) and the
   * dashboard's revoked count are written in the same transaction; listeners in this process
   * hear of the entries once it committed.
   */
  async function run(build: (tx: Db) => Op[], entries: readonly LogEntry[], cause: RevocationCause): Promise<RevocationSummary> {
    // Read outside the transaction: the write lock is held for the writes only.
    const windowSeconds = entries.length > 0 ? await deps.log.windowSeconds() : 0;
    const { summary, txn } = await db.$transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      const totals = { grants: 0, sessions: 0, tokens: 0 };
      for (const { label, op } of build(tx)) {
        const result = (await op) as { count?: number };
        if (label) totals[label] += result.count ?? 0;
      }
      const txn = await deps.log.append(tx, entries, { initiator: initiatorOf(cause), reason: cause.reason ?? cause.action, windowSeconds });
      await tx.auditEvent.create({ data: deps.audit.row({ ...cause, details: { ...cause.details, ...totals } }) });
      if (totals.tokens > 0) await deps.stats.revokedOp(tx, totals.tokens);
      return { summary: totals, txn };
    });
    if (txn) deps.log.committed(txn);
    return summary;
  }

  /**
   * Everything matching `where` (a session, an account, a client): the grants its rows belong
   * to (and `grantIds`) with all their tokens, the matching rows of `models`, and its JWTs.
   */
  async function revokeWhere(where: Record<string, unknown>, models: readonly ModelName[], entries: readonly LogEntry[], cause: RevocationCause, grantIds: readonly string[] = []): Promise<RevocationSummary> {
    const all = [...new Set([...grantIds, ...(await grantIdsWhere(where))])];
    return run((tx) => [...grantOps(tx, all), ...deleteWhere(tx, models, where), denylistJwts(tx, where)], entries, cause);
  }

  return {
    async revokeGrants(grantIds, cause, options = {}) {
      const entries = await grantEntries(grantIds, uniqueSessions(options.sessions ?? [], options.endedSessions ?? []));
      const revoked = new Set(grantIds);
      for (const session of options.endedSessions ?? []) {
        // Clients whose grant survives (offline) are still told their session ended.
        entries.push(...sessionEntries(session, false, (clientId) => !session.clients.some((c) => c.clientId === clientId && c.grantId !== null && revoked.has(c.grantId))));
      }
      return run((tx) => grantOps(tx, grantIds), entries, cause);
    },

    async revokeSession(session, grantIds, cause) {
      const snapshot = typeof session === 'string' ? await readSessionSnapshot(db, { uid: session }) : session;
      const uid = typeof session === 'string' ? session : session.uid;
      const covered = new Set(snapshot?.clients.map((c) => c.grantId) ?? []);
      const entries = [
        ...(snapshot ? sessionEntries(snapshot, true) : []),
        ...(await grantEntries(grantIds.filter((id) => !covered.has(id)), snapshot ? [snapshot] : [])),
      ];
      return revokeWhere({ sessionUid: uid }, MODEL_NAMES, entries, cause, grantIds);
    },

    async revokeAccount(accountId, cause, options = {}) {
      const sessions = uniqueSessions(options.sessions ?? [], await readAccountSessions(db, accountId));
      const entries: LogEntry[] = [
        // The subject entry covers every token of the account for SSF; each session's clients
        // still get their own back-channel logout.
        ...sessions.flatMap((session) => sessionEntries(session, false)),
        { kind: 'subject', eventType: EVENT_BITS.sessionRevoked, accountId },
        ...(options.credentialChanged ? [{ kind: 'credential' as const, eventType: EVENT_BITS.credentialChange, accountId }] : []),
      ];
      return revokeWhere({ accountId }, MODEL_NAMES, entries, cause);
    },

    // A client's rows, sessions aside: a browser session is the user's, shared by every client.
    revokeClient: (clientId, cause) =>
      revokeWhere({ clientId }, MODEL_NAMES.filter((name) => name !== 'Session'), [{ kind: 'client', eventType: EVENT_BITS.sessionRevoked, clientId }], cause),

    revokeOpaqueToken: (token, cause) =>
      run((tx) => deleteWhere(tx, ['AccessToken', 'ClientCredentials'], { id: hashIdentifier(token) }), [{ kind: 'opaque', eventType: 0 }], cause),

    revokeJwtAccessToken: (token, cause) => {
      const entry: LogEntry = {
        kind: 'token',
        eventType: EVENT_BITS.tokenRevoked,
        jti: token.jti,
        clientId: token.clientId,
        accountId: token.sub ?? null,
        validUntil: new Date((token.exp + CLOCK_SKEW_SECONDS) * 1000),
      };
      return run((tx) => [denylistJwts(tx, { id: hashIdentifier(token.jti) })], token.exp * 1000 > Date.now() ? [entry] : [], cause);
    },
  };
}
