import { z } from 'zod';

import type { AdminRoute } from './routes.js';
import { responses } from './schemas.js';

const schema = (type: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(type, { target: 'draft-2020-12', io, unrepresentable: 'any' });

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** The OpenAPI 3.1 document of the admin API, generated from the routes' own zod schemas. */
export function openApiDocument(routes: readonly AdminRoute[], issuer: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...Object.entries(route.params?.shape ?? {}).map(([name, type]) => ({ name, in: 'path', required: true, schema: schema(type as z.ZodType, 'input') })),
      ...Object.entries(route.query?.shape ?? {}).map(([name, type]) => ({
        name,
        in: 'query',
        required: !(type as z.ZodType).safeParse(undefined).success,
        ...((type as z.ZodType).description ? { description: (type as z.ZodType).description } : {}),
        schema: schema(type as z.ZodType, 'input'),
      })),
    ];
    (paths[path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body, 'input') } } } } : {}),
      responses: {
        [String(route.status)]: { description: 'success', content: { 'application/json': { schema: schema(route.response, 'output') } } },
        ...(route.params || route.query || route.body ? { 400: errorResponse('invalid input; `field` names the offending field') } : {}),
        401: errorResponse('no or an invalid access token / console session'),
        403: errorResponse('the token lacks the admin scope, or the user is not an admin'),
        ...(route.params ? { 404: errorResponse('not found') } : {}),
        ...(route.method !== 'get' ? { 409: errorResponse('conflict (duplicate, or a change that would lock every admin out)') } : {}),
        429: errorResponse('rate limited; see Retry-After'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera admin API',
      version: '1',
      description: 'Users, sessions, grants, clients, APIs and the audit log. Authenticate with an access token for the resource '
        + `${issuer}/admin/api with scope "admin" (client_credentials, for a client whose metadata "scope" includes "admin"), `
        + 'or with an admin console session (plus the X-CSRF-Token header on changes). Every call is audited and rate limited.',
    },
    servers: [{ url: `${issuer}/admin/api` }],
    security: [{ bearer: [] }, { console: [] }],
    tags: [{ name: 'users' }, { name: 'sessions and grants' }, { name: 'clients' }, { name: 'apis' }, { name: 'audit' }],
    paths,
    components: {
      schemas: { Error: schema(responses.error, 'output') },
      securitySchemes: {
        bearer: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { admin: 'administer Tessera' } } } },
        console: { type: 'apiKey', in: 'cookie', name: 'tessera.console' },
      },
    },
  };
}
