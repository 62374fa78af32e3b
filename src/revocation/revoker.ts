import type { Db } from '../db/client.js';
import { hashIdentifier } from '../hash.js';
import { GRANT_BOUND_MODELS, MODEL_NAMES, modelTable } from '../oidc/model-tables.js';

export interface RevocationSummary {
  readonly grants: number;
  readonly sessions: number;
}

/**
 * The one revocation path: logout, "sign out everywhere", RFC 7009 and (later) the admin API all
 * go through here. Each call commits in a single database transaction before it returns, so
 * the very next introspection, userinfo or refresh request sees the tokens gone.
 */
export interface Revoker {
  /** Revokes grants and everything issued under them (all token kinds, JWT records). */
  revokeGrants(grantIds: readonly string[]): Promise<RevocationSummary>;
  /** Revokes a browser session: its row, the listed grants and every token bound to it. */
  revokeSession(sessionUid: string, grantIds: readonly string[]): Promise<RevocationSummary>;
  /** "Sign out everywhere": every session and grant of the account. */
  revokeAccount(accountId: string): Promise<RevocationSummary>;
  /** RFC 7009 for one JWT access token: denylisted by jti until it expires. */
  revokeJwtAccessToken(jti: string): Promise<void>;
  /** RFC 7009 for one opaque access token (user or client_credentials): deleted. */
  revokeOpaqueToken(token: string): Promise<void>;
}

export function createRevoker(db: Db): Revoker {
  async function grantIdsWhere(where: Record<string, unknown>): Promise<string[]> {
    const ids = new Set<string>();
    for (const name of GRANT_BOUND_MODELS) {
      const rows = await modelTable(db, name).findMany({ where, select: { grantId: true } });
      for (const row of rows) if (row.grantId) ids.add(row.grantId);
    }
    return [...ids];
  }

  function deleteGrants(tx: Db, grantIds: readonly string[]) {
    const ops = GRANT_BOUND_MODELS.map((name) => modelTable(tx, name).deleteMany({ where: { grantId: { in: [...grantIds] } } }));
    return [
      ...ops,
      tx.jwtAccessToken.updateMany({ where: { grantId: { in: [...grantIds] }, revokedAt: null }, data: { revokedAt: new Date() } }),
    ];
  }

  async function run(ops: Promise<unknown>[]): Promise<unknown[]> {
    // Prisma's array form of $transaction runs the statements in one transaction.
    return db.$transaction(ops as never) as Promise<unknown[]>;
  }

  return {
    async revokeGrants(grantIds) {
      if (grantIds.length === 0) return { grants: 0, sessions: 0 };
      const results = await run(deleteGrants(db, grantIds));
      const grantResult = results[GRANT_BOUND_MODELS.indexOf('Grant')] as { count: number };
      return { grants: grantResult.count, sessions: 0 };
    },

    async revokeSession(sessionUid, grantIds) {
      const bound = await grantIdsWhere({ sessionUid });
      const all = [...new Set([...grantIds, ...bound])];
      const results = await run([
        ...deleteGrants(db, all),
        ...MODEL_NAMES.map((name) => modelTable(db, name).deleteMany({ where: { sessionUid } })),
        db.jwtAccessToken.updateMany({ where: { sessionUid, revokedAt: null }, data: { revokedAt: new Date() } }),
      ]);
      const grants = (results[GRANT_BOUND_MODELS.indexOf('Grant')] as { count: number }).count;
      const sessions = (results[GRANT_BOUND_MODELS.length + 1 + MODEL_NAMES.indexOf('Session')] as { count: number }).count;
      return { grants, sessions };
    },

    async revokeAccount(accountId) {
      const grantIds = await grantIdsWhere({ accountId });
      const results = await run([
        ...deleteGrants(db, grantIds),
        ...MODEL_NAMES.map((name) => modelTable(db, name).deleteMany({ where: { accountId } })),
        db.jwtAccessToken.updateMany({ where: { accountId, revokedAt: null }, data: { revokedAt: new Date() } }),
      ]);
      const grants = (results[GRANT_BOUND_MODELS.indexOf('Grant')] as { count: number }).count
        + (results[GRANT_BOUND_MODELS.length + 1 + MODEL_NAMES.indexOf('Grant')] as { count: number }).count;
      const sessions = (results[GRANT_BOUND_MODELS.length + 1 + MODEL_NAMES.indexOf('Session')] as { count: number }).count;
      return { grants, sessions };
    },

    async revokeOpaqueToken(token) {
      const id = hashIdentifier(token);
      await run([db.oidcAccessToken.deleteMany({ where: { id } }), db.oidcClientCredentials.deleteMany({ where: { id } })]);
    },

    async revokeJwtAccessToken(jti) {
      await db.jwtAccessToken.updateMany({ where: { id: hashIdentifier(jti), revokedAt: null }, data: { revokedAt: new Date() } });
    },
  };
}
