import type { MinuteCounts, TokenStats } from '../audit/token-stats.js';
import type { Db } from '../db/client.js';
import { unexpired } from '../oidc/model-tables.js';

export interface DashboardFigures {
  readonly at: Date;
  readonly activeSessions: number;
  readonly signedInUsers: number;
  readonly users: number;
  readonly disabledUsers: number;
  readonly clients: number;
  readonly activeGrants: number;
  readonly loginsLastHour: { succeeded: number; failed: number };
  /** The last hour, a slot per minute, oldest first. */
  readonly tokensPerMinute: MinuteCounts[];
}

export interface Dashboard {
  figures(): Promise<DashboardFigures>;
}

export function createDashboard(deps: { db: Db; stats: TokenStats }): Dashboard {
  const { db, stats } = deps;
  return {
    async figures() {
      const now = new Date();
      const alive = unexpired(now);
      const hourAgo = new Date(now.getTime() - 3_600_000);
      const [activeSessions, signedIn, users, disabledUsers, clients, activeGrants, succeeded, failed, tokensPerMinute] = await Promise.all([
        db.oidcSession.count({ where: alive }),
        db.oidcSession.findMany({ where: { ...alive, accountId: { not: null } }, distinct: ['accountId'], select: { accountId: true } }),
        db.user.count(),
        db.user.count({ where: { disabled: true } }),
        db.client.count(),
        db.oidcGrant.count({ where: alive }),
        db.auditEvent.count({ where: { action: 'login', outcome: 'success', at: { gte: hourAgo } } }),
        db.auditEvent.count({ where: { action: 'login', outcome: 'failure', at: { gte: hourAgo } } }),
        stats.series(60),
      ]);
      return {
        at: now,
        activeSessions,
        signedInUsers: signedIn.length,
        users,
        disabledUsers,
        clients,
        activeGrants,
        loginsLastHour: { succeeded, failed },
        tokensPerMinute,
      };
    },
  };
}
