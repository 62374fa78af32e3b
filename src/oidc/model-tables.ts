import type { Db } from '../db/client.js';

/** Row shape shared by every oidc-provider model table (see prisma/schema.prisma). */
export interface ModelRow {
  id: string;
  payload: string;
  grantId: string | null;
  sessionUid: string | null;
  accountId: string | null;
  clientId: string | null;
  uid?: string | null;
  userCode?: string | null;
  userAgent?: string | null;
  ip?: string | null;
  lastActiveAt?: Date | null;
  expiresAt: Date | null;
  consumedAt: Date | null;
}

/** The subset of a Prisma delegate the adapter uses; every model table has the same shape. */
export interface ModelTable {
  findUnique(args: { where: Partial<Pick<ModelRow, 'id' | 'uid' | 'userCode'>> }): Promise<ModelRow | null>;
  upsert(args: { where: { id: string }; create: ModelRow; update: Omit<ModelRow, 'id'> }): Promise<unknown>;
  updateMany(args: { where: { id: string }; data: Partial<ModelRow> }): Promise<{ count: number }>;
  deleteMany(args: { where: Record<string, unknown> }): Promise<{ count: number }>;
  findMany(args: Record<string, unknown>): Promise<ModelRow[]>;
}

export const MODEL_NAMES = [
  'Session',
  'Grant',
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
  'DeviceCode',
  'Interaction',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'BackchannelAuthenticationRequest',
  'RegistrationAccessToken',
  'InitialAccessToken',
] as const;

export type ModelName = (typeof MODEL_NAMES)[number];

/** Models whose rows belong to a grant: what revoking a grant deletes. */
export const GRANT_BOUND_MODELS: readonly ModelName[] = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'Grant',
];

/** Prisma `where` for rows not expired at `now` (rows without an expiry never expire). */
export function unexpired(now: Date): { OR: [{ expiresAt: null }, { expiresAt: { gt: Date } }] } {
  return { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The Prisma delegate of a model's table (`OidcSession` -> db.oidcSession). */
export function modelTable(db: Pick<Db, `oidc${ModelName}`>, name: ModelName): ModelTable {
  // The delegates differ only in their generated types; the shape is identical by construction.
  return db[`oidc${name}`] as unknown as ModelTable;
}
