import type { z } from 'zod';

import type { Actor, Audit } from '../../audit/audit.js';
import type { ApiAdmin, ClientAdmin } from '../clients.js';
import type { Dashboard } from '../dashboard.js';
import type { UserAdmin } from '../users.js';
import { bodies, params, queries, responses } from './schemas.js';

export interface RouteInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  actor: Actor;
}

/** One admin API operation: the router serves it and the OpenAPI document describes it. */
export interface AdminRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa-style path below /admin/api, e.g. /users/:userId. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'users' | 'sessions and grants' | 'clients' | 'apis' | 'audit';
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly status: number;
  readonly response: z.ZodType;
  readonly handler: (input: RouteInput) => Promise<unknown>;
}

export interface AdminServices {
  users: UserAdmin;
  clients: ClientAdmin;
  apis: ApiAdmin;
  audit: Audit;
  dashboard: Dashboard;
}

type Q<T extends z.ZodType> = z.infer<T>;

export function adminRoutes(s: AdminServices): AdminRoute[] {
  return [
    // ---- users ----
    {
      method: 'get', path: '/users', operationId: 'listUsers', tag: 'users', summary: 'List or search users (by e-mail), a page at a time',
      query: queries.users, status: 200, response: responses.userPage,
      handler: async ({ query }) => {
        const q = query as Q<typeof queries.users>;
        return s.users.list({ query: q.q, limit: q.limit, cursor: q.cursor });
      },
    },
    {
      method: 'post', path: '/users', operationId: 'createUser', tag: 'users', summary: 'Create a user',
      body: bodies.createUser, status: 201, response: responses.user,
      handler: async ({ body, actor }) => s.users.create(body as Q<typeof bodies.createUser>, actor),
    },
    {
      method: 'get', path: '/users/:userId', operationId: 'getUser', tag: 'users', summary: 'Show a user, with last login and last logout',
      params: params.userId, status: 200, response: responses.userDetail,
      handler: async ({ params: p }) => s.users.get(p.userId!),
    },
    {
      method: 'patch', path: '/users/:userId', operationId: 'updateUser', tag: 'users',
      summary: 'Change e-mail, roles or the disabled flag (disabling revokes all sessions and grants)',
      params: params.userId, body: bodies.updateUser, status: 200, response: responses.userChange,
      handler: async ({ params: p, body, actor }) => s.users.update(p.userId!, body as Q<typeof bodies.updateUser>, actor),
    },
    {
      method: 'delete', path: '/users/:userId', operationId: 'deleteUser', tag: 'users', summary: 'Delete a user, revoking everything of theirs',
      params: params.userId, status: 200, response: responses.deleted,
      handler: async ({ params: p, actor }) => ({ deleted: true, ...(await s.users.remove(p.userId!, actor)) }),
    },
    {
      method: 'post', path: '/users/:userId/disable', operationId: 'disableUser', tag: 'users', summary: 'Disable a user and revoke all their sessions and grants',
      params: params.userId, status: 200, response: responses.userChange,
      handler: async ({ params: p, actor }) => s.users.setDisabled(p.userId!, true, actor),
    },
    {
      method: 'post', path: '/users/:userId/enable', operationId: 'enableUser', tag: 'users', summary: 'Enable a user',
      params: params.userId, status: 200, response: responses.userChange,
      handler: async ({ params: p, actor }) => s.users.setDisabled(p.userId!, false, actor),
    },
    {
      method: 'put', path: '/users/:userId/password', operationId: 'setPassword', tag: 'users', summary: 'Set a new password and revoke all sessions and grants',
      params: params.userId, body: bodies.password, status: 200, response: responses.revoked,
      handler: async ({ params: p, body, actor }) => s.users.setPassword(p.userId!, (body as Q<typeof bodies.password>).password, actor),
    },
    // ---- sessions and grants ----
    {
      method: 'get', path: '/users/:userId/sessions', operationId: 'listSessions', tag: 'sessions and grants',
      summary: "A user's browser sessions: device, IP, created, last active, applications",
      params: params.userId, status: 200, response: responses.sessions,
      handler: async ({ params: p }) => ({ items: await s.users.sessions(p.userId!) }),
    },
    {
      method: 'delete', path: '/users/:userId/sessions/:sessionId', operationId: 'revokeSession', tag: 'sessions and grants',
      summary: 'Revoke one session with every grant and token in it',
      params: params.session, status: 200, response: responses.revoked,
      handler: async ({ params: p, actor }) => ({ revoked: await s.users.revokeSession(p.userId!, p.sessionId!, actor) }),
    },
    {
      method: 'get', path: '/users/:userId/grants', operationId: 'listGrants', tag: 'sessions and grants',
      summary: "A user's grants: application, scopes, APIs, created, tokens outstanding",
      params: params.userId, status: 200, response: responses.grants,
      handler: async ({ params: p }) => ({ items: await s.users.grants(p.userId!) }),
    },
    {
      method: 'delete', path: '/users/:userId/grants/:grantId', operationId: 'revokeGrant', tag: 'sessions and grants',
      summary: 'Revoke one grant and every token issued under it',
      params: params.grant, status: 200, response: responses.revoked,
      handler: async ({ params: p, actor }) => ({ revoked: await s.users.revokeGrant(p.userId!, p.grantId!, actor) }),
    },
    {
      method: 'post', path: '/users/:userId/signout', operationId: 'signOutEverywhere', tag: 'sessions and grants',
      summary: 'Sign the user out everywhere: every session, grant and token',
      params: params.userId, status: 200, response: responses.revoked,
      handler: async ({ params: p, actor }) => ({ revoked: await s.users.revokeAll(p.userId!, actor) }),
    },
    // ---- clients ----
    {
      method: 'get', path: '/clients', operationId: 'listClients', tag: 'clients', summary: 'List clients (secrets are never shown)',
      status: 200, response: responses.clients,
      handler: async () => ({ items: await s.clients.list() }),
    },
    {
      method: 'post', path: '/clients', operationId: 'createClient', tag: 'clients', summary: 'Register a client from RFC 7591 metadata; the secret is shown once',
      body: bodies.clientMetadata, status: 201, response: responses.clientWithSecret,
      handler: async ({ body, actor }) => {
        const { client, clientSecret } = await s.clients.create(body, actor);
        return { client, ...(clientSecret ? { client_secret: clientSecret } : {}) };
      },
    },
    {
      method: 'get', path: '/clients/:clientId', operationId: 'getClient', tag: 'clients', summary: 'Show a client',
      params: params.clientId, status: 200, response: responses.client,
      handler: async ({ params: p }) => s.clients.get(p.clientId!),
    },
    {
      method: 'patch', path: '/clients/:clientId', operationId: 'updateClient', tag: 'clients',
      summary: 'Change client metadata (validated as a whole); a new secret, if one is needed, is shown once',
      params: params.clientId, body: bodies.clientMetadata, status: 200, response: responses.clientWithSecret,
      handler: async ({ params: p, body, actor }) => {
        const { client, clientSecret } = await s.clients.update(p.clientId!, body, actor);
        return { client, ...(clientSecret ? { client_secret: clientSecret } : {}) };
      },
    },
    {
      method: 'delete', path: '/clients/:clientId', operationId: 'deleteClient', tag: 'clients', summary: 'Delete a client and revoke its grants and tokens',
      params: params.clientId, status: 200, response: responses.deleted,
      handler: async ({ params: p, actor }) => ({ deleted: true, ...(await s.clients.remove(p.clientId!, actor)) }),
    },
    {
      method: 'post', path: '/clients/:clientId/secret', operationId: 'rotateClientSecret', tag: 'clients', summary: 'Issue a new secret (shown once); the old one stops working',
      params: params.clientId, status: 200, response: responses.secret,
      handler: async ({ params: p, actor }) => ({ client_id: p.clientId!, client_secret: await s.clients.rotateSecret(p.clientId!, actor) }),
    },
    {
      method: 'post', path: '/clients/:clientId/disable', operationId: 'disableClient', tag: 'clients', summary: 'Disable a client and revoke its grants and tokens',
      params: params.clientId, status: 200, response: responses.clientChange,
      handler: async ({ params: p, actor }) => s.clients.setDisabled(p.clientId!, true, actor),
    },
    {
      method: 'post', path: '/clients/:clientId/enable', operationId: 'enableClient', tag: 'clients', summary: 'Enable a client',
      params: params.clientId, status: 200, response: responses.clientChange,
      handler: async ({ params: p, actor }) => s.clients.setDisabled(p.clientId!, false, actor),
    },
    // ---- APIs ----
    {
      method: 'get', path: '/apis', operationId: 'listApis', tag: 'apis', summary: 'List APIs (resource servers)',
      status: 200, response: responses.apis,
      handler: async () => ({ items: await s.apis.list() }),
    },
    {
      method: 'post', path: '/apis', operationId: 'createApi', tag: 'apis', summary: 'Register an API',
      body: bodies.createApi, status: 201, response: responses.api,
      handler: async ({ body, actor }) => s.apis.create(body, actor),
    },
    {
      method: 'get', path: '/apis/:apiId', operationId: 'getApi', tag: 'apis', summary: 'Show an API',
      params: params.apiId, status: 200, response: responses.api,
      handler: async ({ params: p }) => s.apis.get(p.apiId!),
    },
    {
      method: 'patch', path: '/apis/:apiId', operationId: 'updateApi', tag: 'apis', summary: 'Change an API',
      params: params.apiId, body: bodies.updateApi, status: 200, response: responses.api,
      handler: async ({ params: p, body, actor }) => s.apis.update(p.apiId!, body, actor),
    },
    {
      method: 'delete', path: '/apis/:apiId', operationId: 'deleteApi', tag: 'apis', summary: 'Delete an API',
      params: params.apiId, status: 200, response: responses.deleted,
      handler: async ({ params: p, actor }) => {
        await s.apis.remove(p.apiId!, actor);
        return { deleted: true };
      },
    },
    // ---- audit and figures ----
    {
      method: 'get', path: '/audit', operationId: 'listAuditEvents', tag: 'audit', summary: 'Audit log, newest first, with filters',
      query: queries.audit, status: 200, response: responses.audit,
      handler: async ({ query }) => {
        const q = query as Q<typeof queries.audit>;
        return s.audit.list({
          action: q.action,
          actorId: q.actor,
          targetId: q.target,
          outcome: q.outcome,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
          limit: q.limit,
          cursor: q.cursor,
        });
      },
    },
    {
      method: 'get', path: '/stats', operationId: 'getStats', tag: 'audit', summary: 'Live figures: sessions, grants, logins, tokens issued and revoked per minute',
      status: 200, response: responses.stats,
      handler: async () => s.dashboard.figures(),
    },
  ];
}
