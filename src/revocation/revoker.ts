import type { Audit, AuditEntry } from '../audit/audit.js';
import type { TokenStats } from '../audit/token-stats.js';
import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import { GRANT_BOUND_MODELS, MODEL_NAMES, modelTable, type ModelName } from '../oidc/model-tables.js';

export interface RevocationSummary {
  readonly grants: number;
  readonly sessions: number;
  /** Access and refresh tokens (opaque rows and JWT records) that stopped being valid. */
  readonly tokens: number;
}

/** Why a revocation happens, for its audit entry (the counts are added to its details). */
export type RevocationCause = Omit<AuditEntry, 'outcome'>;

/**
 * The one revocation path: logout, "sign out everywhere", RFC 7009, the CLI and the admin API
 * and console all go through here. Each call commits in a single database transaction before
 * it returns — the deletions, the JWT denylist entries, the audit entry and the dashboard's
 * revoked count together — so the very next introspection, userinfo or refresh request sees
 * the tokens gone, and no revocation happens without its audit entry.
 */
export interface Revoker {
  /** Revokes grants and everything issued under them (all token kinds, JWT records). */
  revokeGrants(grantIds: readonly string[], cause: RevocationCause): Promise<RevocationSummary>;
  /** Revokes a browser session: its row, the listed grants and every token bound to it. */
  revokeSession(sessionUid: string, grantIds: readonly string[], cause: RevocationCause): Promise<RevocationSummary>;
  /** "Sign out everywhere": every session and grant of the account. */
  revokeAccount(accountId: string, cause: RevocationCause): Promise<RevocationSummary>;
  /** Every grant, session binding and token issued to a client (client disabled or deleted). */
  revokeClient(clientId: string, cause: RevocationCause): Promise<RevocationSummary>;
  /** RFC 7009 for one JWT access token: denylisted by jti until it expires. */
  revokeJwtAccessToken(jti: string, cause: RevocationCause): Promise<RevocationSummary>;
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

export function createRevoker(db: Db, deps: { audit: Audit; stats: TokenStats }): Revoker {
  async function grantIdsWhere(where: Record<string, unknown>): Promise<string[]> {
    const ids = new Set<string>();
    for (const name of GRANT_BOUND_MODELS) {
      const rows = await modelTable(db, name).findMany({ where, select: { grantId: true } });
      for (const row of rows) if (row.grantId) ids.add(row.grantId);
    }
    return [...ids];
  }

  /**
   * Runs the statements `build` makes on the transaction client, in one transaction, and sums
   * what they removed. The audit entry (with those totals) and the dashboard's revoked count
   * are written in the same transaction.
   */
  async function run(build: (tx: Db) => Op[], cause: RevocationCause): Promise<RevocationSummary> {
    return db.$transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      const totals = { grants: 0, sessions: 0, tokens: 0 };
      for (const { label, op } of build(tx)) {
        const result = (await op) as { count?: number };
        if (label) totals[label] += result.count ?? 0;
      }
      await tx.auditEvent.create({ data: deps.audit.row({ ...cause, details: { ...cause.details, ...totals } }) });
      if (totals.tokens > 0) await deps.stats.revokedOp(tx, totals.tokens);
      return totals;
    });
  }

  /**
   * Everything matching `where` (a session, an account, a client): the grants its rows belong
   * to (and `grantIds`) with all their tokens, the matching rows of `models`, and its JWTs.
   */
  async function revokeWhere(where: Record<string, unknown>, models: readonly ModelName[], cause: RevocationCause, grantIds: readonly string[] = []): Promise<RevocationSummary> {
    const all = [...new Set([...grantIds, ...(await grantIdsWhere(where))])];
    return run((tx) => [...grantOps(tx, all), ...deleteWhere(tx, models, where), denylistJwts(tx, where)], cause);
  }

  return {
    revokeGrants: (grantIds, cause) => run((tx) => grantOps(tx, grantIds), cause),

    revokeSession: (sessionUid, grantIds, cause) => revokeWhere({ sessionUid }, MODEL_NAMES, cause, grantIds),
    revokeAccount: (accountId, cause) => revokeWhere({ accountId }, MODEL_NAMES, cause),
    // A client's rows, sessions aside: a browser session is the user's, shared by every client.
    revokeClient: (clientId, cause) => revokeWhere({ clientId }, MODEL_NAMES.filter((name) => name !== 'Session'), cause),

    revokeOpaqueToken: (token, cause) => run((tx) => deleteWhere(tx, ['AccessToken', 'ClientCredentials'], { id: hashIdentifier(token) }), cause),

    revokeJwtAccessToken: (jti, cause) => run((tx) => [denylistJwts(tx, { id: hashIdentifier(jti) })], cause),
  };
}
