import type { Db } from '../db/client.js';
import { readDate, type FastReads, type PointRead } from '../db/fast-reads.js';
import { hashIdentifier, openWith, sealWith } from '../hash.js';
import { isModelName, modelTable, type ModelName, type ModelRow } from './model-tables.js';

/** What oidc-provider expects of an adapter (docs: "Adapter" in the configuration reference). */
export interface OidcAdapter {
  upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Record<string, unknown> | undefined>;
  findByUid(uid: string): Promise<Record<string, unknown> | undefined>;
  findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export type AdapterConstructor = new (name: string) => OidcAdapter;

/** Looks up client metadata for oidc-provider (the `Client` model is not a token table). */
export type ClientMetadataLoader = (clientId: string) => Promise<Record<string, unknown> | undefined>;

/** What the adapter learns from the request that saves a row (oidc-provider's `Provider.ctx`). */
export interface AdapterHooks {
  /** The user agent and IP of the current request, kept on session rows for the admin console. */
  requestInfo(): { userAgent: string | null; ip: string | null } | undefined;
  /** Called for every access, client credentials and refresh token saved (dashboard counts). */
  onIssued(): void;
  /**
   * oidc-provider is revoking this grant (lib/helpers/revoke.js). True when Tessera's revoker
   * took it over (src/revocation/provider-revocations.ts): the adapter then deletes nothing
   * itself, so every revocation passes through the revoker and its log.
   */
  takeOverGrantRevocation(grantId: string): Promise<boolean>;
}

const ISSUED_MODELS = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken']);

const NO_HOOKS: AdapterHooks = { requestInfo: () => undefined, onIssued: () => undefined, takeOverGrantRevocation: async () => false };

const ID_PLACEHOLDER = '{tessera:id}';

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Splits a payload into indexed columns and the stored JSON. Credential-like values never reach
 * the database: the row key is SHA-256(id), `jti` is dropped (it is the id), an Interaction's
 * copy of the session cookie is dropped (oidc-provider never reads it back), and a device
 * user code is kept only as a hash. Any other occurrence of the id inside the payload is
 * replaced by a placeholder and restored on read by id.
 */
export function toRow(name: ModelName, id: string, payload: Record<string, unknown>, expiresIn: number | undefined): ModelRow {
  const { jti: _jti, userCode, ...rest } = payload;
  if (name === 'Interaction' && rest.session && typeof rest.session === 'object') {
    const { cookie: _cookie, ...session } = rest.session as Record<string, unknown>;
    rest.session = session;
  }
  const row: ModelRow = {
    id: hashIdentifier(id),
    // The id can also appear inside the payload (an Interaction's `returnTo` is
    // `/auth/<id>`, the interaction cookie's value): store a placeholder instead.
    payload: JSON.stringify(rest).split(id).join(ID_PLACEHOLDER),
    grantId: name === 'Grant' ? id : str(rest.grantId),
    sessionUid: str(rest.sessionUid) ?? (name === 'Session' ? str(rest.uid) : null),
    accountId: str(rest.accountId),
    clientId: str(rest.clientId),
    expiresAt: typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000) : null,
    consumedAt: null,
  };
  if (name === 'Session') row.uid = str(rest.uid);
  if (name === 'DeviceCode' && typeof userCode === 'string') {
    // The device code itself is sealed under the user code, so findByUserCode can return it.
    row.userCode = hashIdentifier(userCode);
    row.payload = JSON.stringify({ ...rest, sealedJti: sealWith(userCode, id) });
  }
  return row;
}

/** Rebuilds oidc-provider's payload from a row, or undefined when it has expired. */
export function fromRow(row: ModelRow | null, jti: string | undefined, now = Date.now()): Record<string, unknown> | undefined {
  if (!row) return undefined;
  if (row.expiresAt && row.expiresAt.getTime() <= now) return undefined;
  const payload = JSON.parse(jti === undefined ? row.payload : row.payload.split(ID_PLACEHOLDER).join(jti)) as Record<string, unknown>;
  if (jti !== undefined) {
    payload.jti = jti;
    delete payload.sealedJti;
  }
  if (row.consumedAt) payload.consumed = Math.floor(row.consumedAt.getTime() / 1000);
  return payload;
}

/**
 * `INSERT … ON CONFLICT DO UPDATE` for a model table and a set of columns (valid on SQLite and
 * PostgreSQL). `createdAt` is written on insert only.
 */
export function upsertSql(table: string, columns: readonly string[]): string {
  const all = [...columns, 'createdAt'];
  const quoted = all.map((c) => `"${c}"`).join(', ');
  const values = all.map((_, i) => `$${i + 1}`).join(', ');
  const updates = columns.filter((c) => c !== 'id').map((c) => `"${c}" = excluded."${c}"`).join(', ');
  return `INSERT INTO "${table}" (${quoted}) VALUES (${values}) ON CONFLICT ("id") DO UPDATE SET ${updates}`;
}

const MODEL_COLUMNS = 'id, payload, "grantId", "sessionUid", "accountId", "clientId", "expiresAt", "consumedAt"';

export function createAdapterClass(db: Db, loadClient: ClientMetadataLoader, hooks: AdapterHooks = NO_HOOKS, fast?: FastReads): AdapterConstructor {
  const sqlCache = new Map<string, string>();
  const points = new Map<string, PointRead>(); // one per model and column: fast.find builds its SQL once

  /** Saves a row with one prepared statement; false when the caller must use Prisma instead. */
  async function fastUpsert(name: ModelName, row: ModelRow): Promise<boolean> {
    if (!fast) return false;
    const columns = Object.keys(row);
    const key = `${name}:${columns.join(',')}`;
    let sql = sqlCache.get(key);
    if (!sql) {
      sql = upsertSql(`Oidc${name}`, columns);
      sqlCache.set(key, sql);
    }
    return fast.write(sql, [...columns.map((c) => (row as unknown as Record<string, unknown>)[c] ?? null), new Date()]);
  }

  /** One statement through the prepared path; false when the caller must use Prisma instead. */
  const fastWrite = async (sql: string, params: unknown[]): Promise<boolean> => (fast ? fast.write(sql, params) : false);

  /** A row by a unique column through the prepared path (undefined: use Prisma). */
  async function fastFind(name: ModelName, column: 'id' | 'uid', value: string): Promise<ModelRow | null | undefined> {
    if (!fast) return undefined;
    const shape = `${name}:${column}`;
    let point = points.get(shape);
    if (!point) {
      point = { table: `Oidc${name}`, columns: MODEL_COLUMNS, key: column };
      points.set(shape, point);
    }
    const raw = await fast.find(point, value);
    if (!raw) return null;
    return { ...(raw as unknown as ModelRow), expiresAt: readDate(raw.expiresAt), consumedAt: readDate(raw.consumedAt) };
  }

  return class PrismaAdapter implements OidcAdapter {
    readonly #name: string;

    constructor(name: string) {
      this.#name = name;
    }

    #table() {
      if (!isModelName(this.#name)) throw new Error(`no table for oidc-provider model ${this.#name}`);
      return modelTable(db, this.#name);
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      const name = this.#name;
      if (!isModelName(name)) throw new Error(`oidc-provider model ${name} is read-only in Tessera`);
      const row = toRow(name, id, payload, expiresIn);
      if (name === 'Session') {
        const info = hooks.requestInfo();
        if (info) Object.assign(row, { userAgent: info.userAgent?.slice(0, 512) ?? null, ip: info.ip, lastActiveAt: new Date() });
      }
      // Tokens are written on every issuance: one prepared statement, unless SQLite's write
      // lock stays taken past the busy timeout (then Prisma, which waits for it as long again).
      if (!(await fastUpsert(name, row))) {
        const { id: key, ...update } = row;
        await modelTable(db, name).upsert({ where: { id: key }, create: row, update });
      }
      if (ISSUED_MODELS.has(name)) hooks.onIssued();
    }

    // Reads and single-statement writes of the token paths (refresh rotation, userinfo, logout)
    // go through prepared statements; Prisma is the fallback.
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (this.#name === 'Client') return loadClient(id);
      const name = this.#name;
      if (!isModelName(name)) return undefined;
      const key = hashIdentifier(id);
      const row = await fastFind(name, 'id', key);
      return fromRow(row === undefined ? await this.#table().findUnique({ where: { id: key } }) : row, id);
    }

    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      // The session id (the cookie) is not stored, so the payload comes back without `jti`;
      // oidc-provider only reads sessions found this way (provider.js, token_helpers.js).
      const name = this.#name;
      const row = isModelName(name) ? await fastFind(name, 'uid', uid) : undefined;
      return fromRow(row === undefined ? await this.#table().findUnique({ where: { uid } }) : row, undefined);
    }

    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      const payload = fromRow(await this.#table().findUnique({ where: { userCode: hashIdentifier(userCode) } }), undefined);
      if (!payload) return undefined;
      const { sealedJti, ...rest } = payload;
      const jti = typeof sealedJti === 'string' ? openWith(userCode, sealedJti) : null;
      return jti ? { ...rest, jti, userCode } : undefined;
    }

    async consume(id: string): Promise<void> {
      const [table, key, now] = [this.#table(), hashIdentifier(id), new Date()];
      if (await fastWrite(`UPDATE "Oidc${this.#name}" SET "consumedAt" = $2 WHERE id = $1`, [key, now])) return;
      await table.updateMany({ where: { id: key }, data: { consumedAt: now } });
    }

    async destroy(id: string): Promise<void> {
      const [table, key] = [this.#table(), hashIdentifier(id)];
      if (this.#name === 'Grant' && (await hooks.takeOverGrantRevocation(id))) return;
      if (await fastWrite(`DELETE FROM "Oidc${this.#name}" WHERE id = $1`, [key])) return;
      await table.deleteMany({ where: { id: key } });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // oidc-provider calls this for every token model of every grant a logout ends.
      const table = this.#table();
      if (await hooks.takeOverGrantRevocation(grantId)) return;
      if (await fastWrite(`DELETE FROM "Oidc${this.#name}" WHERE "grantId" = $1`, [grantId])) return;
      await table.deleteMany({ where: { grantId } });
    }
  };
}
