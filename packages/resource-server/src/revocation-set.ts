import { CREDENTIAL_CHANGE, SESSION_REVOKED, STREAM_UPDATED, TOKEN_REVOKED, VERIFICATION } from './event-types.js';

/** The claims of a verified Security Event Token that this set reads. */
export interface SetClaims {
  iss: string;
  jti: string;
  iat: number;
  sub_id?: unknown;
  events: Record<string, unknown>;
  [claim: string]: unknown;
}

/** The claims of an access token (a jose JWTPayload, express-jwt's payload, koa-jwt's ctx.state.user). */
export type TokenClaims = { readonly [claim: string]: unknown };

/** Which matching rule an entry feeds. */
export type RuleKind = 'jti' | 'session' | 'subject' | 'subject-client' | 'client';

/** What applying one SET did. */
export type ApplyResult =
  /** An entry was added or widened. */
  | { effect: 'revoked'; rule: RuleKind; expiresAt: number }
  /** An event type that revokes nothing (credential change, verification, stream update). */
  | { effect: 'none' }
  /** Every token it revokes has expired already: nothing to remember. */
  | { effect: 'expired' }
  /** Unknown event type, subject format or member: no effect (the SET is still acknowledged). */
  | { effect: 'ignored'; reason: string }
  /** No room left: the entry was not kept, and the set reports itself overflowed until it would have expired. */
  | { effect: 'overflowed'; expiresAt: number };

export interface RevocationSetOptions {
  /** Most entries kept at once (default 1,000,000). */
  maxEntries?: number;
  /** Longest lifetime of an access token, for events that do not say until when their tokens can be valid (default 86,400). */
  maxTokenLifetimeSeconds?: number;
  /** Added to every entry's expiry, for clocks that disagree (default 60). */
  skewSeconds?: number;
}

interface Cutoff {
  /** Tokens issued at or before this time (seconds) are revoked. */
  cutoff: number;
  /** Kept until then (seconds). */
  expiresAt: number;
}

interface SessionRule {
  /** When set, the token's sub must be this too. */
  sub: string | undefined;
  /** When set, the token's client_id must be this too. */
  client: string | undefined;
  expiresAt: number;
  /** Another rule for the same sid with other members (rare). */
  next: SessionRule | undefined;
}

/** Everything revoked for one issuer. */
interface IssuerIndex {
  jtis: Map<string, number>;
  sessions: Map<string, SessionRule>;
  subjects: Map<string, Cutoff>;
  subjectClients: Map<string, Map<string, Cutoff>>;
  clients: Map<string, Cutoff>;
}

type Target =
  | { kind: 'jti'; iss: string; jti: string }
  | { kind: 'session'; iss: string; sid: string; sub: string | undefined; client: string | undefined }
  | { kind: 'subject'; iss: string; sub: string }
  | { kind: 'subject-client'; iss: string; sub: string; client: string }
  | { kind: 'client'; iss: string; client: string };

const NO_EFFECT: ReadonlySet<string> = new Set([CREDENTIAL_CHANGE, VERIFICATION, STREAM_UPDATED]);
const COMPLEX_MEMBERS: ReadonlySet<string> = new Set(['format', 'user', 'session', 'application']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The revocations a resource server must honour, in memory, and the rules that match access tokens against them.
 * Pure: no timers, no I/O; every method that needs the time is given it (seconds since the epoch).
 *
 * `matches()` is the hot path: a handful of Map lookups, no clock (an expired entry can only match tokens that have
 * expired too, which the caller's JWT verification refuses anyway), no allocation.
 */
export class RevocationSet {
  readonly maxEntries: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly skewSeconds: number;

  private readonly issuers = new Map<string, IssuerIndex>();
  private count = 0;
  private lastFullSweep = Number.NEGATIVE_INFINITY;
  private overflowEnd = 0;

  constructor(options: RevocationSetOptions = {}) {
    this.maxEntries = positiveInteger(options.maxEntries ?? 1_000_000, 'maxEntries');
    this.maxTokenLifetimeSeconds = positiveInteger(options.maxTokenLifetimeSeconds ?? 86_400, 'maxTokenLifetimeSeconds');
    this.skewSeconds = nonNegativeNumber(options.skewSeconds ?? 60, 'skewSeconds');
  }

  /** Entries held (each jti, session rule, subject, subject and client, or client counts one). */
  get size(): number {
    return this.count;
  }

  /**
   * Until when (seconds) the set is overflowed: it had to leave out a revocation, and cannot answer safely until that
   * revocation would have expired. 0 when it never overflowed.
   */
  get overflowUntil(): number {
    return this.overflowEnd;
  }

  /** Whether the set has left out a revocation that may still matter at `now`. */
  overflowed(now: number): boolean {
    return now <= this.overflowEnd;
  }

  /** Applies one verified SET. Idempotent: applying the same SET again changes nothing. */
  apply(set: SetClaims, now: number): ApplyResult {
    const types = Object.keys(set.events);
    if (types.length !== 1) return { effect: 'ignored', reason: `a SET must carry exactly one event, this one has ${types.length}` };
    const type = types[0] as string;
    if (NO_EFFECT.has(type)) return { effect: 'none' };
    if (type !== SESSION_REVOKED && type !== TOKEN_REVOKED) return { effect: 'ignored', reason: `unknown event type ${type}` };

    const event = set.events[type];
    if (!isObject(event)) return { effect: 'ignored', reason: 'the event is not an object' };
    const target = type === TOKEN_REVOKED ? tokenTarget(set.sub_id) : sessionTarget(set.sub_id, set.iss);
    if (typeof target === 'string') return { effect: 'ignored', reason: target };

    const timestamp = isTime(event.event_timestamp) ? event.event_timestamp : set.iat;
    const validUntil = isTime(event.tessera_valid_until) ? event.tessera_valid_until : timestamp + this.maxTokenLifetimeSeconds;
    const expiresAt = validUntil + this.skewSeconds;
    if (expiresAt < now) return { effect: 'expired' };
    return this.insert(target, timestamp, expiresAt, now) ? { effect: 'revoked', rule: target.kind, expiresAt } : { effect: 'overflowed', expiresAt };
  }

  /** Whether a token with these claims is revoked. Matches regardless of expiry (see the class comment). */
  matches(token: TokenClaims): boolean {
    const iss = token.iss;
    if (typeof iss !== 'string') return false;
    const index = this.issuers.get(iss);
    if (index === undefined) return false;

    if (index.jtis.size !== 0) {
      const jti = token.jti;
      if (typeof jti === 'string' && index.jtis.has(jti)) return true;
    }
    const sub = token.sub;
    const client = token.client_id;
    if (index.sessions.size !== 0) {
      const sid = token.sid;
      if (typeof sid === 'string') {
        for (let rule = index.sessions.get(sid); rule !== undefined; rule = rule.next) {
          if ((rule.sub === undefined || rule.sub === sub) && (rule.client === undefined || rule.client === client)) return true;
        }
      }
    }
    // Subject-level rules: tokens issued at or before the event. A token without iat is taken as issued before (fail closed).
    const iat = token.iat;
    const issuedAt = typeof iat === 'number' ? iat : Number.NEGATIVE_INFINITY;
    if (typeof sub === 'string') {
      if (index.subjects.size !== 0) {
        const entry = index.subjects.get(sub);
        if (entry !== undefined && issuedAt <= entry.cutoff) return true;
      }
      if (index.subjectClients.size !== 0 && typeof client === 'string') {
        const entry = index.subjectClients.get(sub)?.get(client);
        if (entry !== undefined && issuedAt <= entry.cutoff) return true;
      }
    }
    if (index.clients.size !== 0 && typeof client === 'string') {
      const entry = index.clients.get(client);
      if (entry !== undefined && issuedAt <= entry.cutoff) return true;
    }
    return false;
  }

  /** Drops every entry expired at `now`; returns how many. */
  sweep(now: number): number {
    const steps = this.sweeper(now, Number.POSITIVE_INFINITY);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /**
   * The same sweep in slices: each next() looks at about `slice` entries, so that a large set is swept without one
   * long pause; done when it returns how many entries it dropped. Entries added meanwhile are fine.
   */
  *sweeper(now: number, slice = 20_000): Generator<void, number, void> {
    let dropped = 0;
    let visits = 0;
    for (const [iss, index] of this.issuers) {
      for (const [jti, expiresAt] of index.jtis) {
        if (expiresAt < now) dropped += this.drop(index.jtis, jti);
        if (++visits >= slice) {
          visits = 0;
          yield;
        }
      }
      for (const [sid, first] of index.sessions) {
        dropped += this.sweepSession(index.sessions, sid, first, now);
        if (++visits >= slice) {
          visits = 0;
          yield;
        }
      }
      for (const map of [index.subjects, index.clients]) {
        for (const [key, entry] of map) {
          if (entry.expiresAt < now) dropped += this.drop(map, key);
          if (++visits >= slice) {
            visits = 0;
            yield;
          }
        }
      }
      for (const [sub, byClient] of index.subjectClients) {
        for (const [client, entry] of byClient) {
          if (entry.expiresAt < now) dropped += this.drop(byClient, client);
          if (++visits >= slice) {
            visits = 0;
            yield;
          }
        }
        if (byClient.size === 0 && index.subjectClients.get(sub) === byClient) index.subjectClients.delete(sub);
      }
      if (index.jtis.size + index.sessions.size + index.subjects.size + index.subjectClients.size + index.clients.size === 0 && this.issuers.get(iss) === index) {
        this.issuers.delete(iss);
      }
    }
    this.lastFullSweep = now;
    return dropped;
  }

  private sweepSession(sessions: Map<string, SessionRule>, sid: string, first: SessionRule, now: number): number {
    let dropped = 0;
    let kept: SessionRule | undefined;
    for (let rule: SessionRule | undefined = first; rule !== undefined; ) {
      const next: SessionRule | undefined = rule.next;
      if (rule.expiresAt < now) {
        this.count--;
        dropped++;
      } else {
        rule.next = kept;
        kept = rule;
      }
      rule = next;
    }
    if (kept === undefined) sessions.delete(sid);
    else if (kept !== first) sessions.set(sid, kept);
    return dropped;
  }

  private drop(map: Map<string, unknown>, key: string): number {
    map.delete(key);
    this.count--;
    return 1;
  }

  /** Whether one more entry fits; sweeps (at most once a second) when full, and records what it had to leave out. */
  private admit(expiresAt: number, now: number): boolean {
    if (this.count < this.maxEntries) return true;
    if (now - this.lastFullSweep >= 1) this.sweep(now);
    if (this.count < this.maxEntries) return true;
    if (expiresAt > this.overflowEnd) this.overflowEnd = expiresAt;
    return false;
  }

  private indexOf(iss: string): IssuerIndex {
    let index = this.issuers.get(iss);
    if (index === undefined) {
      index = { jtis: new Map(), sessions: new Map(), subjects: new Map(), subjectClients: new Map(), clients: new Map() };
      this.issuers.set(iss, index);
    }
    return index;
  }

  private insert(target: Target, timestamp: number, expiresAt: number, now: number): boolean {
    const existing = this.issuers.get(target.iss);
    switch (target.kind) {
      case 'jti': {
        const current = existing?.jtis.get(target.jti);
        if (current === undefined && !this.admit(expiresAt, now)) return false;
        if (current === undefined) this.count++;
        this.indexOf(target.iss).jtis.set(target.jti, current === undefined ? expiresAt : Math.max(current, expiresAt));
        return true;
      }
      case 'session': {
        const first = existing?.sessions.get(target.sid);
        for (let rule = first; rule !== undefined; rule = rule.next) {
          if (rule.sub === target.sub && rule.client === target.client) {
            if (expiresAt > rule.expiresAt) rule.expiresAt = expiresAt;
            return true;
          }
        }
        if (!this.admit(expiresAt, now)) return false;
        this.count++;
        // admit() may have swept the chain: read it again.
        const index = this.indexOf(target.iss);
        index.sessions.set(target.sid, { sub: target.sub, client: target.client, expiresAt, next: index.sessions.get(target.sid) });
        return true;
      }
      case 'subject':
        return this.widen(existing?.subjects, () => this.indexOf(target.iss).subjects, target.sub, timestamp, expiresAt, now);
      case 'client':
        return this.widen(existing?.clients, () => this.indexOf(target.iss).clients, target.client, timestamp, expiresAt, now);
      case 'subject-client':
        return this.widen(existing?.subjectClients.get(target.sub), () => {
          const index = this.indexOf(target.iss);
          let byClient = index.subjectClients.get(target.sub);
          if (byClient === undefined) {
            byClient = new Map();
            index.subjectClients.set(target.sub, byClient);
          }
          return byClient;
        }, target.client, timestamp, expiresAt, now);
    }
  }

  /** Raises a cutoff entry to the later event and the later expiry, or adds it. */
  private widen(map: Map<string, Cutoff> | undefined, create: () => Map<string, Cutoff>, key: string, timestamp: number, expiresAt: number, now: number): boolean {
    const entry = map?.get(key);
    if (entry !== undefined) {
      if (timestamp > entry.cutoff) entry.cutoff = timestamp;
      if (expiresAt > entry.expiresAt) entry.expiresAt = expiresAt;
      return true;
    }
    if (!this.admit(expiresAt, now)) return false;
    this.count++;
    create().set(key, { cutoff: timestamp, expiresAt });
    return true;
  }
}

/** token-revoked: `{format: "jwt_id", iss, jti}`. A string is the reason the subject is not understood. */
function tokenTarget(subId: unknown): Target | string {
  if (!isObject(subId)) return 'the SET has no sub_id';
  if (subId.format !== 'jwt_id') return `unknown subject format ${String(subId.format)} for token-revoked`;
  if (!isText(subId.iss) || !isText(subId.jti)) return 'a jwt_id subject needs iss and jti';
  return { kind: 'jti', iss: subId.iss, jti: subId.jti };
}

/** session-revoked: `{format: "iss_sub"}`, or `{format: "complex"}` with user, session and application members. */
function sessionTarget(subId: unknown, setIssuer: string): Target | string {
  if (!isObject(subId)) return 'the SET has no sub_id';
  if (subId.format === 'iss_sub') {
    if (!isText(subId.iss) || !isText(subId.sub)) return 'an iss_sub subject needs iss and sub';
    return { kind: 'subject', iss: subId.iss, sub: subId.sub };
  }
  if (subId.format !== 'complex') return `unknown subject format ${String(subId.format)} for session-revoked`;
  for (const member of Object.keys(subId)) if (!COMPLEX_MEMBERS.has(member)) return `unknown complex subject member ${member}`;

  let iss = setIssuer;
  let sub: string | undefined;
  if (subId.user !== undefined) {
    const user = subId.user;
    if (!isObject(user) || user.format !== 'iss_sub' || !isText(user.iss) || !isText(user.sub)) return 'the user member must be an iss_sub subject';
    iss = user.iss;
    sub = user.sub;
  }
  const sid = opaque(subId.session);
  if (sid === null) return 'the session member must be an opaque subject';
  const client = opaque(subId.application);
  if (client === null) return 'the application member must be an opaque subject';

  if (sid !== undefined) return { kind: 'session', iss, sid, sub, client };
  if (sub !== undefined && client !== undefined) return { kind: 'subject-client', iss, sub, client };
  if (sub !== undefined) return { kind: 'subject', iss, sub };
  if (client !== undefined) return { kind: 'client', iss, client };
  return 'a complex subject needs a user, session or application member';
}

/** An opaque subject's id; undefined when absent, null when malformed. */
function opaque(member: unknown): string | undefined | null {
  if (member === undefined) return undefined;
  if (!isObject(member) || member.format !== 'opaque' || !isText(member.id)) return null;
  return member.id;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

function nonNegativeNumber(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}
