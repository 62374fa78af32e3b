import { randomUUID } from 'node:crypto';

import type { Db } from '../db/client.js';
import { readBoolean, readDate, type FastReads, type PointRead } from '../db/fast-reads.js';
import { conflict, invalidInput, notFound } from '../errors.js';
import { MAX_PASSWORD_LENGTH, type PasswordHasher } from './passwords.js';

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly roles: readonly string[];
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  readonly lastLogoutAt: Date | null;
}

export interface Accounts {
  create(input: { email: string; password: string; roles?: string[] }): Promise<Account>;
  /** The enabled account for these credentials, or null. Same time whether or not the e-mail exists. */
  authenticate(email: string, password: string): Promise<Account | null>;
  findById(id: string): Promise<Account | null>;
  findByEmail(email: string): Promise<Account | null>;
  list(options?: { limit?: number }): Promise<Account[]>;
  /** Users whose e-mail contains `query`, by e-mail; `after` is the last e-mail of the previous page. */
  search(options: { query?: string; limit: number; after?: string }): Promise<{ items: Account[]; total: number }>;
  /** Changes the e-mail and/or roles. */
  update(id: string, patch: { email?: string; roles?: string[] }): Promise<Account>;
  setDisabled(id: string, disabled: boolean): Promise<Account>;
  setPassword(id: string, password: string): Promise<void>;
  remove(id: string): Promise<void>;
  recordLogin(id: string): Promise<void>;
  recordLogout(id: string): Promise<void>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function validateEmail(email: unknown): string {
  if (typeof email !== 'string' || !EMAIL.test(email.trim()) || email.length > 320) {
    throw invalidInput('email', 'must be an e-mail address');
  }
  return normalizeEmail(email);
}

export function validatePassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < 8) {
    throw invalidInput('password', 'must be at least 8 characters');
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw invalidInput('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;

export function validateRoles(roles: unknown): string[] {
  if (!Array.isArray(roles) || roles.length > 20 || !roles.every((r) => typeof r === 'string' && ROLE.test(r))) {
    throw invalidInput('roles', 'must be a list of at most 20 role names (lower-case letters, digits, "-" and "_")');
  }
  return [...new Set(roles as string[])];
}

type UserRow = Awaited<ReturnType<Db['user']['findUnique']>> & object;

function toAccount(row: UserRow): Account {
  return {
    id: row.id,
    email: row.email,
    disabled: row.disabled,
    roles: JSON.parse(row.roles) as string[],
    createdAt: row.createdAt,
    lastLoginAt: row.lastLoginAt,
    lastLogoutAt: row.lastLogoutAt,
  };
}

const BY_ID: PointRead = { table: 'User', columns: 'id, email, "passwordHash", disabled, roles, "createdAt", "updatedAt", "lastLoginAt", "lastLogoutAt"', key: 'id' };

/** A User row read through a prepared statement, with driver values as Prisma returns them. */
function userRow(raw: Record<string, unknown>): UserRow {
  return {
    id: String(raw.id),
    email: String(raw.email),
    passwordHash: String(raw.passwordHash),
    disabled: readBoolean(raw.disabled),
    roles: String(raw.roles),
    createdAt: readDate(raw.createdAt)!,
    updatedAt: readDate(raw.updatedAt)!,
    lastLoginAt: readDate(raw.lastLoginAt),
    lastLogoutAt: readDate(raw.lastLogoutAt),
  };
}

/** `reads`: the account lookup by id (every userinfo, refresh and ID token) skips the ORM. */
export function createAccounts(db: Db, passwords: PasswordHasher, reads?: FastReads): Accounts {
  async function mustFind(id: string): Promise<UserRow> {
    const row = await db.user.findUnique({ where: { id } });
    if (!row) throw notFound('user');
    return row;
  }

  return {
    async create({ email, password, roles = [] }) {
      const normalized = validateEmail(email);
      validatePassword(password);
      const validRoles = validateRoles(roles);
      if (await db.user.findUnique({ where: { email: normalized } })) {
        throw conflict(`a user with e-mail ${normalized} already exists`, 'email');
      }
      const passwordHash = await passwords.hash(password);
      const row = await db.user.create({
        data: { id: randomUUID(), email: normalized, passwordHash, roles: JSON.stringify(validRoles) },
      });
      return toAccount(row);
    },

    async authenticate(email, password) {
      if (typeof email !== 'string' || typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) {
        return null;
      }
      const row = await db.user.findUnique({ where: { email: normalizeEmail(email) } });
      if (!row) {
        // Spend the same time as a real verification so timing does not reveal accounts.
        await passwords.decoyVerify(password);
        return null;
      }
      const { ok, needsRehash } = await passwords.verify(row.passwordHash, password);
      if (!ok || row.disabled) return null;
      if (needsRehash) {
        // Parameters changed in config: upgrade the stored hash transparently.
        await db.user.update({ where: { id: row.id }, data: { passwordHash: await passwords.hash(password) } });
      }
      return toAccount(row);
    },

    async findById(id) {
      if (reads) {
        const raw = await reads.find(BY_ID, id);
        return raw ? toAccount(userRow(raw)) : null;
      }
      const row = await db.user.findUnique({ where: { id } });
      return row ? toAccount(row) : null;
    },

    async findByEmail(email) {
      const row = await db.user.findUnique({ where: { email: normalizeEmail(email) } });
      return row ? toAccount(row) : null;
    },

    async list({ limit = 1000 } = {}) {
      const rows = await db.user.findMany({ orderBy: { createdAt: 'asc' }, take: limit });
      return rows.map(toAccount);
    },

    async search({ query, limit, after }) {
      const needle = query?.trim().toLowerCase() ?? '';
      const where = needle ? { email: { contains: needle } } : {};
      const afterCursor = after ? { email: { ...(needle ? { contains: needle } : {}), gt: after } } : {};
      if (!/[%_\\]/.test(needle)) {
        const [rows, total] = await Promise.all([
          db.user.findMany({ where: { ...where, ...afterCursor }, orderBy: { email: 'asc' }, take: limit }),
          db.user.count({ where }),
        ]);
        return { items: rows.map(toAccount), total };
      }
      // `contains` becomes SQL LIKE, where "%" and "_" are wildcards that Prisma does not escape:
      // the database narrows to a superset, and the literal match is made here.
      const literal = (rows: { email: string }[]) => rows.filter((r) => r.email.includes(needle));
      const [page, all] = await Promise.all([
        db.user.findMany({ where: { ...where, ...afterCursor }, orderBy: { email: 'asc' } }),
        db.user.findMany({ where, select: { email: true } }),
      ]);
      return { items: (literal(page) as UserRow[]).slice(0, limit).map(toAccount), total: literal(all).length };
    },

    async update(id, patch) {
      const row = await mustFind(id);
      const email = patch.email === undefined ? undefined : validateEmail(patch.email);
      if (email !== undefined && email !== row.email && (await db.user.findUnique({ where: { email } }))) {
        throw conflict(`a user with e-mail ${email} already exists`, 'email');
      }
      const roles = patch.roles === undefined ? undefined : validateRoles(patch.roles);
      return toAccount(await db.user.update({
        where: { id },
        data: { ...(email !== undefined ? { email } : {}), ...(roles !== undefined ? { roles: JSON.stringify(roles) } : {}) },
      }));
    },

    async setDisabled(id, disabled) {
      await mustFind(id);
      return toAccount(await db.user.update({ where: { id }, data: { disabled } }));
    },

    async setPassword(id, password) {
      validatePassword(password);
      await mustFind(id);
      await db.user.update({ where: { id }, data: { passwordHash: await passwords.hash(password) } });
    },

    async remove(id) {
      await mustFind(id);
      await db.user.delete({ where: { id } });
    },

    async recordLogin(id) {
      await db.user.update({ where: { id }, data: { lastLoginAt: new Date() } }).catch(() => undefined);
    },

    async recordLogout(id) {
      await db.user.update({ where: { id }, data: { lastLogoutAt: new Date() } }).catch(() => undefined);
    },
  };
}

