import { z } from 'zod';

// Request and response shapes of the admin API. The router validates requests with these
// schemas, and the OpenAPI document is generated from the very same ones (openapi.ts).

const limit = z.coerce.number().int().min(1).max(200).default(50).describe('page size (1-200)');
const cursor = z.string().min(1).max(500).optional().describe('nextCursor of the previous page');
const role = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, "-" or "_"');
const date = z.iso.datetime();

export const params = {
  userId: z.object({ userId: z.string().min(1).max(100) }),
  session: z.object({ userId: z.string().min(1).max(100), sessionId: z.string().min(1).max(200) }),
  grant: z.object({ userId: z.string().min(1).max(100), grantId: z.string().min(1).max(200) }),
  clientId: z.object({ clientId: z.string().min(1).max(200) }),
  apiId: z.object({ apiId: z.string().min(1).max(2000).describe('the API identifier (a URI), percent-encoded') }),
};

export const queries = {
  users: z.strictObject({ q: z.string().max(320).optional().describe('part of the e-mail address'), limit, cursor }),
  audit: z.strictObject({
    action: z.string().max(100).optional().describe('exact action, or a prefix ending in * (e.g. user.*)'),
    actor: z.string().max(200).optional().describe('actor id (user id or client_id)'),
    target: z.string().max(2000).optional().describe('target id (user id, client_id, API identifier)'),
    outcome: z.enum(['success', 'failure']).optional(),
    since: date.optional(),
    until: date.optional(),
    limit,
    cursor,
  }),
};

const apiFields = {
  name: z.string().max(200).optional(),
  scopes: z.array(z.string()).max(200).optional().describe('RFC 6749 scope tokens'),
  accessTokenFormat: z.enum(['jwt', 'opaque']).optional().describe('default jwt (RFC 9068)'),
  accessTokenTTL: z.number().int().min(10).max(86_400).optional().describe('seconds, default 300'),
};

export const bodies = {
  createUser: z.strictObject({
    email: z.string().max(320),
    password: z.string().min(8, 'must be at least 8 characters').max(1024),
    roles: z.array(role).max(20).default([]),
  }),
  updateUser: z.strictObject({
    email: z.string().max(320).optional(),
    roles: z.array(role).max(20).optional(),
    disabled: z.boolean().optional(),
  }),
  password: z.strictObject({ password: z.string().min(8, 'must be at least 8 characters').max(1024) }),
  clientMetadata: z.record(z.string(), z.unknown()).describe('RFC 7591 client metadata'),
  // The API service validates the values (URI, scope tokens, TTL range); these shapes name an
  // unknown field in the 400 answer and document the body in the OpenAPI document.
  createApi: z.strictObject({
    identifier: z.string().max(2000).describe('absolute URI without a fragment (RFC 8707); the audience of its tokens'),
    ...apiFields,
  }),
  updateApi: z.strictObject(apiFields),
};

const user = z.object({
  id: z.string(),
  email: z.string(),
  disabled: z.boolean(),
  roles: z.array(z.string()),
  createdAt: date,
  lastLoginAt: date.nullable(),
  lastLogoutAt: date.nullable(),
});

const revoked = z.object({ grants: z.number().int(), sessions: z.number().int(), tokens: z.number().int() });

const client = z.object({
  client_id: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  hasSecret: z.boolean(),
  disabled: z.boolean(),
  createdAt: date,
});

const api = z.object({
  identifier: z.string(),
  name: z.string().nullable(),
  scopes: z.array(z.string()),
  accessTokenFormat: z.enum(['jwt', 'opaque']),
  accessTokenTTL: z.number().int(),
  createdAt: date,
});

export const responses = {
  error: z.object({ error: z.string(), error_description: z.string(), field: z.string().optional() }),
  user,
  userDetail: user.extend({ sessions: z.number().int(), grants: z.number().int() }),
  userPage: z.object({ items: z.array(user), total: z.number().int(), nextCursor: z.string().nullable() }),
  userChange: z.object({ user, revoked: revoked.optional() }),
  revoked: z.object({ revoked }),
  sessions: z.object({
    items: z.array(z.object({
      id: z.string(),
      createdAt: date,
      lastActiveAt: date.nullable(),
      expiresAt: date.nullable(),
      loginAt: date.nullable(),
      userAgent: z.string().nullable(),
      ip: z.string().nullable(),
      clients: z.array(z.object({ clientId: z.string(), clientName: z.string().nullable(), grantId: z.string().nullable() })),
    })),
  }),
  grants: z.object({
    items: z.array(z.object({
      id: z.string(),
      clientId: z.string(),
      clientName: z.string().nullable(),
      scopes: z.array(z.string()),
      apis: z.array(z.object({ identifier: z.string(), scopes: z.array(z.string()) })),
      createdAt: date,
      expiresAt: date.nullable(),
      sessionIds: z.array(z.string()),
      tokensOutstanding: z.number().int(),
    })),
  }),
  client,
  clients: z.object({ items: z.array(client) }),
  clientWithSecret: z.object({ client, client_secret: z.string().optional().describe('shown once') }),
  clientChange: z.object({ client, revoked: revoked.optional() }),
  secret: z.object({ client_id: z.string(), client_secret: z.string().describe('shown once') }),
  api,
  apis: z.object({ items: z.array(api) }),
  audit: z.object({
    items: z.array(z.object({
      id: z.string(),
      at: date,
      action: z.string(),
      outcome: z.string(),
      actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
      target: z.object({ type: z.string(), id: z.string() }).nullable(),
      reason: z.string().nullable(),
      ip: z.string().nullable(),
      details: z.record(z.string(), z.unknown()),
    })),
    nextCursor: z.string().nullable(),
  }),
  stats: z.object({
    at: date,
    activeSessions: z.number().int(),
    signedInUsers: z.number().int(),
    users: z.number().int(),
    disabledUsers: z.number().int(),
    clients: z.number().int(),
    activeGrants: z.number().int(),
    loginsLastHour: z.object({ succeeded: z.number().int(), failed: z.number().int() }),
    tokensPerMinute: z.array(z.object({ minute: date, issued: z.number().int(), revoked: z.number().int() })),
  }),
  deleted: z.object({ deleted: z.literal(true), revoked: revoked.optional() }),
};
