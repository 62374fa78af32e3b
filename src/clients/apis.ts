import { z } from 'zod';

import type { Db } from '../db/client.js';
import { readDate } from '../db/fast-reads.js';
import { conflict, invalidInput, notFound } from '../errors.js';
import type { RegistryCache } from './registry-cache.js';

/** A resource server (RFC 8707 resource indicator = its identifier, the tokens' `aud`). */
export interface Api {
  readonly identifier: string;
  readonly name: string | null;
  readonly scopes: readonly string[];
  readonly accessTokenFormat: 'jwt' | 'opaque';
  readonly accessTokenTTL: number;
  readonly createdAt: Date;
}

export interface Apis {
  create(input: unknown): Promise<Api>;
  update(identifier: string, input: unknown): Promise<Api>;
  list(): Promise<Api[]>;
  find(identifier: string): Promise<Api | null>;
  remove(identifier: string): Promise<void>;
}

// RFC 6749 §3.3 scope-token characters.
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes must be RFC 6749 scope tokens');

const fields = {
  name: z.string().max(200),
  scopes: z.array(scopeToken).max(200),
  accessTokenFormat: z.enum(['jwt', 'opaque']),
  accessTokenTTL: z.number().int().min(10).max(86_400),
};

const apiInput = z.strictObject({
  identifier: z
    .string()
    .refine((v) => URL.canParse(v) && !v.includes('#'), 'must be an absolute URI without a fragment (RFC 8707)'),
  name: fields.name.optional(),
  scopes: fields.scopes.default([]),
  accessTokenFormat: fields.accessTokenFormat.default('jwt'),
  accessTokenTTL: fields.accessTokenTTL.default(300),
});

const apiPatch = z.strictObject({
  name: fields.name.optional(),
  scopes: fields.scopes.optional(),
  accessTokenFormat: fields.accessTokenFormat.optional(),
  accessTokenTTL: fields.accessTokenTTL.optional(),
});

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidInput(issue?.path.join('.') || 'input', issue?.message ?? 'invalid');
  }
  return parsed.data;
}

type ApiRow = { identifier: string; name: string | null; scopes: string; accessTokenFormat: string; accessTokenTtlSeconds: number; createdAt: Date };

function toApi(row: ApiRow): Api {
  return {
    identifier: row.identifier,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    accessTokenFormat: row.accessTokenFormat === 'opaque' ? 'opaque' : 'jwt',
    accessTokenTTL: row.accessTokenTtlSeconds,
    createdAt: row.createdAt,
  };
}

// Every token request with a resource indicator reads its API: one prepared read.
const FIND_QUERY = 'SELECT identifier, name, scopes, "accessTokenFormat", "accessTokenTtlSeconds", "createdAt" FROM "Api" WHERE identifier = $1';

export function createApis(db: Db, registry: Pick<RegistryCache, 'read' | 'changed'>): Apis {
  return {
    async create(input) {
      const api = parse(apiInput, input);
      if (await db.api.findUnique({ where: { identifier: api.identifier } })) {
        throw conflict(`an API with identifier ${api.identifier} already exists`, 'identifier');
      }
      const row = await db.api.create({
        data: {
          identifier: api.identifier,
          name: api.name ?? null,
          scopes: JSON.stringify([...new Set(api.scopes)]),
          accessTokenFormat: api.accessTokenFormat,
          accessTokenTtlSeconds: api.accessTokenTTL,
        },
      });
      registry.changed();
      return toApi(row);
    },

    async update(identifier, input) {
      const existing = await db.api.findUnique({ where: { identifier } });
      if (!existing) throw notFound('API');
      const patch = parse(apiPatch, input);
      const row = await db.api.update({
        where: { identifier },
        data: {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.scopes !== undefined ? { scopes: JSON.stringify([...new Set(patch.scopes)]) } : {}),
          ...(patch.accessTokenFormat !== undefined ? { accessTokenFormat: patch.accessTokenFormat } : {}),
          ...(patch.accessTokenTTL !== undefined ? { accessTokenTtlSeconds: patch.accessTokenTTL } : {}),
        },
      });
      registry.changed();
      return toApi(row);
    },

    async list() {
      return (await db.api.findMany({ orderBy: { createdAt: 'asc' } })).map(toApi);
    },

    async find(identifier) {
      const raw = await registry.read(FIND_QUERY, [identifier]);
      if (!raw) return null;
      return toApi({
        identifier: String(raw.identifier),
        name: (raw.name as string | null) ?? null,
        scopes: String(raw.scopes),
        accessTokenFormat: String(raw.accessTokenFormat),
        accessTokenTtlSeconds: Number(raw.accessTokenTtlSeconds),
        createdAt: readDate(raw.createdAt) ?? new Date(0),
      });
    },

    async remove(identifier) {
      if (!(await db.api.findUnique({ where: { identifier } }))) throw notFound('API');
      await db.api.delete({ where: { identifier } });
      registry.changed();
    },
  };
}
