import type { Account, Accounts } from '../accounts/accounts.js';
import type { Actor, Audit } from '../audit/audit.js';
import type { Clients } from '../clients/clients.js';
import type { Db } from '../db/client.js';
import { conflict, invalidInput, notFound } from '../errors.js';
import { hashIdentifier } from '../hash.js';
import { unexpired } from '../oidc/model-tables.js';
import type { RevocationSummary, Revoker } from '../revocation/revoker.js';
import { readSessionSnapshot } from '../revocation/session-snapshot.js';

export const ADMIN_ROLE = 'admin';

/** May this account use the admin console and API: enabled, with the admin role. */
export function isEnabledAdmin<T extends { disabled: boolean; roles: readonly string[] }>(account: T | null | undefined): account is T {
  return !!account && !account.disabled && account.roles.includes(ADMIN_ROLE);
}

export interface SessionView {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastActiveAt: Date | null;
  readonly expiresAt: Date | null;
  readonly loginAt: Date | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly clients: { clientId: string; clientName: string | null; grantId: string | null }[];
}

export interface GrantView {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string | null;
  readonly scopes: string[];
  readonly apis: { identifier: string; scopes: string[] }[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly sessionIds: string[];
  /** Unexpired access and refresh tokens issued under the grant (opaque rows and JWT records). */
  readonly tokensOutstanding: number;
}

export interface UserDetail extends Account {
  readonly sessions: number;
  readonly grants: number;
}

export interface UserPage {
  readonly items: Account[];
  readonly total: number;
  readonly nextCursor: string | null;
}

/**
 * What an operator can do to users, shared by the admin API, the console and the CLI. Every
 * change is audited with its actor. Disabling a user, changing a password or deleting a user
 * revokes all of the user's sessions and grants (OWASP ASVS 3.3.3), through the one revoker.
 */
export interface UserAdmin {
  list(options: { query?: string; limit: number; cursor?: string }): Promise<UserPage>;
  get(id: string): Promise<UserDetail>;
  create(input: { email: string; password: string; roles?: string[] }, actor: Actor): Promise<Account>;
  update(id: string, patch: { email?: string; roles?: string[]; disabled?: boolean }, actor: Actor): Promise<{ user: Account; revoked?: RevocationSummary }>;
  setDisabled(id: string, disabled: boolean, actor: Actor): Promise<{ user: Account; revoked?: RevocationSummary }>;
  setPassword(id: string, password: string, actor: Actor): Promise<{ revoked: RevocationSummary }>;
  remove(id: string, actor: Actor): Promise<{ revoked: RevocationSummary }>;
  sessions(id: string): Promise<SessionView[]>;
  grants(id: string): Promise<GrantView[]>;
  revokeSession(id: string, sessionId: string, actor: Actor): Promise<RevocationSummary>;
  revokeGrant(id: string, grantId: string, actor: Actor): Promise<RevocationSummary>;
  revokeAll(id: string, actor: Actor): Promise<RevocationSummary>;
}

interface SessionPayload {
  loginTs?: number;
  authorizations?: Record<string, { grantId?: string }>;
}

interface GrantPayload {
  clientId?: string;
  openid?: { scope?: string };
  resources?: Record<string, string>;
  iat?: number;
  sessionUid?: string;
}

const words = (scope: string | undefined): string[] => (scope ? scope.split(' ').filter(Boolean) : []);

const encodeCursor = (email: string): string => Buffer.from(email).toString('base64url');
/** The e-mail a cursor stands for; anything this server did not hand out is refused (400). */
function decodeCursor(cursor: string): string {
  const email = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!email || encodeCursor(email) !== cursor) throw invalidInput('cursor', 'is not a cursor this server returned');
  return email;
}

export function createUserAdmin(deps: { db: Db; accounts: Accounts; clients: Clients; revoker: Revoker; audit: Audit }): UserAdmin {
  const { db, accounts, clients, revoker, audit } = deps;

  async function mustFind(id: string): Promise<Account> {
    const found = await accounts.findById(id);
    if (!found) throw notFound('user');
    return found;
  }

  /**
   * Refuses a change that would leave no enabled admin (nobody could sign in to the console).
   * The command line is exempt: whoever runs it holds the database and can always
   * `tessera admin create` again.
   */
  async function keepAnAdmin(user: Account, next: { disabled: boolean; roles: readonly string[]; deleted?: boolean }, actor: Actor): Promise<void> {
    if (actor.type === 'system') return;
    const wasAdmin = isEnabledAdmin(user);
    const staysAdmin = !next.deleted && isEnabledAdmin(next);
    if (!wasAdmin || staysAdmin) return;
    const admins = (await db.user.findMany({ where: { disabled: false }, select: { id: true, roles: true } }))
      .filter((u) => (JSON.parse(u.roles) as string[]).includes(ADMIN_ROLE));
    if (admins.length <= 1) throw conflict('this is the last enabled admin; make another user admin first', 'roles');
  }

  const target = (id: string) => ({ type: 'user', id });

  async function clientName(clientId: string, cache: Map<string, string | null>): Promise<string | null> {
    if (!cache.has(clientId)) {
      const found = await clients.find(clientId);
      cache.set(clientId, typeof found?.metadata.client_name === 'string' ? found.metadata.client_name : null);
    }
    return cache.get(clientId)!;
  }

  async function revokeAllOf(user: Account, actor: Actor, action: string, reason: string, options: { credentialChanged?: boolean } = {}): Promise<RevocationSummary> {
    return revoker.revokeAccount(user.id, { action, actor, initiator: 'admin', target: target(user.id), reason, details: { email: user.email } }, options);
  }

  async function setDisabled(id: string, disabled: boolean, actor: Actor) {
    const user = await mustFind(id);
    if (disabled) await keepAnAdmin(user, { disabled: true, roles: user.roles }, actor);
    const updated = await accounts.setDisabled(id, disabled);
    if (!disabled) {
      await audit.record({ action: 'user.enable', actor, target: target(id), details: { email: user.email } });
      return { user: updated };
    }
    // Disabling already fails every token at introspection (the liveness rule reads the
    // account); the revocation removes them, and writes the audit entry.
    return { user: updated, revoked: await revokeAllOf(user, actor, 'user.disable', 'account disabled') };
  }

  return {
    async list({ query, limit, cursor }) {
      const { items, total } = await accounts.search({ query, limit: limit + 1, after: cursor ? decodeCursor(cursor) : undefined });
      const page = items.slice(0, limit);
      return { items: page, total, nextCursor: items.length > limit ? encodeCursor(page[page.length - 1]!.email) : null };
    },

    async get(id) {
      const user = await mustFind(id);
      const now = new Date();
      const alive = { accountId: id, ...unexpired(now) };
      const [sessions, grants] = await Promise.all([db.oidcSession.count({ where: alive }), db.oidcGrant.count({ where: alive })]);
      return { ...user, sessions, grants };
    },

    async create(input, actor) {
      const user = await accounts.create(input);
      await audit.record({ action: 'user.create', actor, target: target(user.id), details: { email: user.email, roles: user.roles } });
      return user;
    },

    async update(id, patch, actor) {
      const user = await mustFind(id);
      if (patch.roles !== undefined || patch.disabled) {
        await keepAnAdmin(user, { disabled: patch.disabled ?? user.disabled, roles: patch.roles ?? user.roles }, actor);
      }
      let updated = user;
      if (patch.email !== undefined || patch.roles !== undefined) {
        updated = await accounts.update(id, { email: patch.email, roles: patch.roles });
        await audit.record({
          action: 'user.update',
          actor,
          target: target(id),
          details: { ...(patch.email !== undefined ? { email: { from: user.email, to: updated.email } } : {}), ...(patch.roles !== undefined ? { roles: { from: user.roles, to: updated.roles } } : {}) },
        });
      }
      if (patch.disabled !== undefined && patch.disabled !== user.disabled) return setDisabled(id, patch.disabled, actor);
      return { user: updated };
    },

    setDisabled,

    async setPassword(id, password, actor) {
      const user = await mustFind(id);
      await accounts.setPassword(id, password);
      return { revoked: await revokeAllOf(user, actor, 'user.password', 'password changed', { credentialChanged: true }) };
    },

    async remove(id, actor) {
      const user = await mustFind(id);
      await keepAnAdmin(user, { disabled: true, roles: [], deleted: true }, actor);
      const revoked = await revokeAllOf(user, actor, 'user.delete', 'account deleted');
      await accounts.remove(id);
      return { revoked };
    },

    async sessions(id) {
      await mustFind(id);
      const now = new Date();
      const rows = await db.oidcSession.findMany({
        where: { accountId: id, ...unexpired(now) },
        orderBy: [{ lastActiveAt: 'desc' }, { createdAt: 'desc' }],
        take: 500,
      });
      const names = new Map<string, string | null>();
      const views: SessionView[] = [];
      for (const row of rows) {
        if (!row.uid) continue;
        const payload = JSON.parse(row.payload) as SessionPayload;
        const clientsIn = [];
        for (const [clientId, auth] of Object.entries(payload.authorizations ?? {})) {
          clientsIn.push({ clientId, clientName: await clientName(clientId, names), grantId: auth.grantId ?? null });
        }
        views.push({
          id: row.uid,
          createdAt: row.createdAt,
          lastActiveAt: row.lastActiveAt,
          expiresAt: row.expiresAt,
          loginAt: typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : null,
          userAgent: row.userAgent,
          ip: row.ip,
          clients: clientsIn,
        });
      }
      return views;
    },

    async grants(id) {
      await mustFind(id);
      const now = new Date();
      const rows = await db.oidcGrant.findMany({
        where: { accountId: id, ...unexpired(now) },
        orderBy: { createdAt: 'desc' },
        take: 500,
      });
      const grantIds = rows.map((r) => r.grantId!).filter(Boolean);
      const usable = { grantId: { in: grantIds }, consumedAt: null, ...unexpired(now) };
      const [opaque, refresh, jwts, sessions] = await Promise.all([
        db.oidcAccessToken.findMany({ where: usable, select: { grantId: true } }),
        db.oidcRefreshToken.findMany({ where: usable, select: { grantId: true } }),
        db.jwtAccessToken.findMany({ where: { grantId: { in: grantIds }, revokedAt: null, expiresAt: { gt: now } }, select: { grantId: true } }),
        db.oidcSession.findMany({ where: { accountId: id, ...unexpired(now) }, select: { uid: true, payload: true } }),
      ]);
      const outstanding = new Map<string, number>();
      for (const t of [...opaque, ...refresh, ...jwts]) if (t.grantId) outstanding.set(t.grantId, (outstanding.get(t.grantId) ?? 0) + 1);
      const sessionsOf = new Map<string, string[]>();
      for (const s of sessions) {
        for (const auth of Object.values((JSON.parse(s.payload) as SessionPayload).authorizations ?? {})) {
          if (auth.grantId && s.uid) sessionsOf.set(auth.grantId, [...(sessionsOf.get(auth.grantId) ?? []), s.uid]);
        }
      }
      const names = new Map<string, string | null>();
      const views: GrantView[] = [];
      for (const row of rows) {
        const payload = JSON.parse(row.payload) as GrantPayload;
        const clientId = payload.clientId ?? row.clientId ?? '';
        views.push({
          id: row.grantId!,
          clientId,
          clientName: await clientName(clientId, names),
          scopes: words(payload.openid?.scope),
          apis: Object.entries(payload.resources ?? {}).map(([identifier, scope]) => ({ identifier, scopes: words(scope) })),
          createdAt: row.createdAt,
          expiresAt: row.expiresAt,
          sessionIds: sessionsOf.get(row.grantId!) ?? [],
          tokensOutstanding: outstanding.get(row.grantId!) ?? 0,
        });
      }
      return views;
    },

    async revokeSession(id, sessionId, actor) {
      const user = await mustFind(id);
      const session = await readSessionSnapshot(db, { uid: sessionId });
      if (!session || session.accountId !== id) throw notFound('session');
      const grantIds = session.clients.map((c) => c.grantId).filter((g): g is string => g !== null);
      // An operator revoking a session ends all of it, offline grants included.
      return revoker.revokeSession(session, grantIds, {
        action: 'session.revoke', actor, initiator: 'admin', target: target(id), reason: 'revoked by an administrator', details: { email: user.email, session: sessionId },
      });
    },

    async revokeGrant(id, grantId, actor) {
      const user = await mustFind(id);
      const row = await db.oidcGrant.findUnique({ where: { id: hashIdentifier(grantId) } });
      if (!row || row.accountId !== id) throw notFound('grant');
      return revoker.revokeGrants([grantId], {
        action: 'grant.revoke', actor, initiator: 'admin', target: target(id), reason: 'revoked by an administrator', details: { email: user.email, grant: grantId, client: row.clientId },
      });
    },

    async revokeAll(id, actor) {
      return revokeAllOf(await mustFind(id), actor, 'user.signout', 'signed out everywhere by an administrator');
    },
  };
}
