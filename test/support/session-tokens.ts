import type * as oidc from 'openid-client';
import { expect } from 'vitest';

import { introspect, refresh, userinfoStatus, type Fixture } from './rp.js';
import type { TestServer } from './server.js';

/** The tokens one sign-in holds: an opaque userinfo token, a JWT for the seeded API, refresh tokens. */
export interface SessionTokenSet {
  userinfo: string;
  jwt: string;
  refresh: string[];
}

/** Every token works: userinfo 200, and each is active at introspection. */
export async function expectTokensAlive(server: TestServer, f: Fixture, s: SessionTokenSet): Promise<void> {
  expect(await userinfoStatus(server, s.userinfo)).toBe(200);
  expect(await introspect(server, f.rs, s.userinfo)).toMatchObject({ active: true });
  expect(await introspect(server, f.rs, s.jwt)).toMatchObject({ active: true, aud: f.jwtApi });
  for (const rt of s.refresh) expect(await introspect(server, f.rs, rt, 'refresh_token')).toMatchObject({ active: true });
}

/** At the very next request every token is dead: inactive, userinfo 401, refresh invalid_grant. */
export async function expectTokensDead(server: TestServer, f: Fixture, config: oidc.Configuration, s: SessionTokenSet): Promise<void> {
  expect(await introspect(server, f.rs, s.userinfo)).toEqual({ active: false });
  expect(await introspect(server, f.rs, s.jwt)).toEqual({ active: false });
  expect(await userinfoStatus(server, s.userinfo)).toBe(401);
  for (const rt of s.refresh) {
    expect(await introspect(server, f.rs, rt, 'refresh_token')).toEqual({ active: false });
    expect((await refresh(config, rt)).error).toBe('invalid_grant');
  }
}
