import { describe, expect, it } from 'vitest';

import type { TokenRow } from '../../src/revocation/token-lookup.js';
import { isAlive } from '../../src/revocation/token-status.js';

const NOW = 1_800_000_000_000;

function row(overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    kind: 'AccessToken',
    payload: { kind: 'AccessToken', exp: NOW / 1000 + 60, expiresWithSession: true },
    clientId: 'web',
    accountId: 'u1',
    grantId: 'g1',
    sessionUid: 's1',
    expiresAt: NOW + 60_000,
    consumedAt: null,
    revokedAt: null,
    expiresWithSession: true,
    grant: { clientId: 'web', expiresAt: NOW + 600_000 },
    session: { accountId: 'u1', expiresAt: NOW + 600_000, payload: JSON.stringify({ authorizations: { web: { grantId: 'g1', sid: 'sid1' } } }) },
    account: { disabled: false },
    client: { disabled: false },
    ...overrides,
  };
}

describe('isAlive: the one liveness rule every token path shares', () => {
  it('a token whose grant, session, account and client all live is alive', () => {
    expect(isAlive(row(), NOW)).toBe(true);
  });

  it.each<[string, Partial<TokenRow>]>([
    ['expired row', { expiresAt: NOW }],
    ['expired payload', { payload: { kind: 'AccessToken', exp: NOW / 1000 - 1, expiresWithSession: true } }],
    ['consumed refresh token', { consumedAt: NOW - 1 }],
    ['revoked JWT record', { revokedAt: NOW - 1 }],
    ['grant gone (logout, revocation)', { grant: null }],
    ['grant of another client', { grant: { clientId: 'other', expiresAt: null } }],
    ['grant expired', { grant: { clientId: 'web', expiresAt: NOW - 1 } }],
    ['session gone', { session: null }],
    ['session expired', { session: { accountId: 'u1', expiresAt: NOW - 1, payload: '{}' } }],
    ['session of another account', { session: { accountId: 'u2', expiresAt: null, payload: JSON.stringify({ authorizations: { web: { grantId: 'g1' } } }) } }],
    ['session no longer holds the grant', { session: { accountId: 'u1', expiresAt: null, payload: JSON.stringify({ authorizations: {} }) } }],
    ['account disabled', { account: { disabled: true } }],
    ['account deleted', { account: null }],
    ['client disabled', { client: { disabled: true } }],
    ['client deleted', { client: null }],
  ])('%s: not alive', (_name, overrides) => {
    expect(isAlive(row(overrides), NOW)).toBe(false);
  });

  it('an offline token (not bound to the session) survives the session, not its grant', () => {
    const offline = { expiresWithSession: false, payload: { kind: 'RefreshToken', exp: NOW / 1000 + 60 }, session: null };
    expect(isAlive(row(offline), NOW)).toBe(true);
    expect(isAlive(row({ ...offline, grant: null }), NOW)).toBe(false);
  });

  it('a client_credentials token needs only its client', () => {
    const cc = { kind: 'ClientCredentials' as const, payload: { kind: 'ClientCredentials', exp: NOW / 1000 + 60 }, accountId: null, grantId: null, sessionUid: null, expiresWithSession: false, grant: null, session: null, account: null };
    expect(isAlive(row(cc), NOW)).toBe(true);
    expect(isAlive(row({ ...cc, client: { disabled: true } }), NOW)).toBe(false);
  });
});
