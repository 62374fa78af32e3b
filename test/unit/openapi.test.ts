import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';

import { openApiDocument } from '../../src/admin/api/openapi.js';
import { adminRoutes, type AdminServices } from '../../src/admin/api/routes.js';

// Only the route table is needed: the services are never called.
const services = new Proxy({}, { get: () => new Proxy({}, { get: () => () => { throw new Error('not called'); } }) }) as AdminServices;
const routes = adminRoutes(services);
const issuer = 'https://id.example.com';
const doc = openApiDocument(routes, issuer) as {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { flows?: { clientCredentials?: { tokenUrl: string } } }> };
};

interface Parameter { name: string; in: string; required: boolean; schema: Record<string, unknown> }
interface Operation {
  operationId: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}

const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

describe('the admin API\'s OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: `${issuer}/admin/api` }]);
    expect(doc.components.securitySchemes.bearer!.flows!.clientCredentials!.tokenUrl).toBe(`${issuer}/token`);
  });

  it('describes every route of the table, with its method, operationId and success status', () => {
    expect(routes.map((r) => r.operationId).sort()).toEqual([
      'createApi', 'createClient', 'createUser', 'deleteApi', 'deleteClient', 'deleteUser', 'disableClient', 'disableUser',
      'enableClient', 'enableUser', 'getApi', 'getClient', 'getStats', 'getUser', 'listApis', 'listAuditEvents', 'listClients',
      'listGrants', 'listSessions', 'listUsers', 'revokeGrant', 'revokeSession', 'rotateClientSecret', 'setPassword',
      'signOutEverywhere', 'updateApi', 'updateClient', 'updateUser',
    ]);
    for (const route of routes) {
      const op = doc.paths[openApiPath(route.path)]?.[route.method];
      expect(op, `${route.method.toUpperCase()} ${route.path}`).toBeDefined();
      expect(op!.operationId).toBe(route.operationId);
      expect(op!.tags).toEqual([route.tag]);
      expect(op!.responses[String(route.status)]?.content?.['application/json']?.schema).toBeDefined();
      for (const status of ['401', '403', '429']) expect(op!.responses[status], `${route.operationId} ${status}`).toBeDefined();
      if (route.params) expect(op!.responses['404'], route.operationId).toBeDefined();
      if (route.body) {
        expect(op!.requestBody?.required, route.operationId).toBe(true);
        expect(op!.requestBody!.content['application/json']!.schema).toBeDefined();
        expect(op!.responses['400'], route.operationId).toBeDefined();
      } else {
        expect(op!.requestBody, route.operationId).toBeUndefined();
      }
    }
    // …and nothing else: as many operations as routes, operationIds unique.
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    expect(operations).toHaveLength(routes.length);
    expect(new Set(routes.map((r) => r.operationId)).size).toBe(routes.length);
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
  });

  it('declares every path parameter, required, and none that is not in the path', () => {
    for (const route of routes) {
      const path = openApiPath(route.path);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (doc.paths[path]![route.method]!.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${route.method} ${path}`).toEqual([...inPath].sort());
      for (const p of declared) expect(p.required, `${path} ${p.name}`).toBe(true);
    }
  });

  it('declares the query parameters of list operations, optional where they have defaults', () => {
    const users = doc.paths['/users']!.get!.parameters!;
    expect(users.map((p) => [p.name, p.in, p.required])).toEqual([['q', 'query', false], ['limit', 'query', false], ['cursor', 'query', false]]);
    expect(users.find((p) => p.name === 'limit')!.schema).toMatchObject({ minimum: 1, maximum: 200 });
    const audit = doc.paths['/audit']!.get!.parameters!.map((p) => p.name);
    expect(audit).toEqual(['action', 'actor', 'target', 'outcome', 'since', 'until', 'limit', 'cursor']);
  });

  it('documents strict request bodies (unknown fields are refused) and the shared error shape', () => {
    const createUser = doc.paths['/users']!.post!.requestBody!.content['application/json']!.schema;
    expect(createUser).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['email', 'password']) });
    const createApi = doc.paths['/apis']!.post!.requestBody!.content['application/json']!.schema;
    expect(createApi).toMatchObject({ type: 'object', additionalProperties: false, required: ['identifier'] });
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: expect.arrayContaining(['error', 'error_description']) });
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(doc.components.schemas[ref], ref).toBeDefined();
  });
});
