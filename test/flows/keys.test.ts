import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clientCredentialsJwt } from '../support/tokens.js';
import { introspect, seed, type Fixture } from '../support/rp.js';
import { cli, startServer, type TestServer } from '../support/server.js';

async function jwksKids(server: TestServer): Promise<string[]> {
  const res = await fetch(`${server.issuer}/jwks`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`never happened: ${what}`);
}

describe('signing key rotation', () => {
  let server: TestServer;
  let f: Fixture;

  beforeAll(async () => {
    server = await startServer({ KEY_REFRESH_INTERVAL: '1' });
    f = await seed(server);
  });
  afterAll(async () => server?.cleanup());

  it('a running server picks up `tessera keys rotate` without restart; old tokens keep verifying', async () => {
    const before = await clientCredentialsJwt(server, f.rs, f.jwtApi);
    const oldKid = decodeProtectedHeader(before).kid!;
    expect(await jwksKids(server)).toEqual([oldKid]);

    const rotated = await cli(server, ['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const { kid: newKid, retired } = rotated.json<{ kid: string; retired: string[] }>();
    expect(retired).toEqual([oldKid]);

    await eventually(async () => (await jwksKids(server)).includes(newKid), 'the new kid is published');
    expect(await jwksKids(server)).toContain(oldKid);

    const after = await clientCredentialsJwt(server, f.rs, f.jwtApi);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect(await introspect(server, f.rs, before)).toMatchObject({ active: true });
    expect(await introspect(server, f.rs, after)).toMatchObject({ active: true });

    const listed = (await cli(server, ['keys', 'list'])).json<{ kid: string; retiredAt: string | null; published: boolean }[]>();
    expect(listed.find((k) => k.kid === oldKid)).toMatchObject({ published: true });
    expect(listed.find((k) => k.kid === oldKid)?.retiredAt).not.toBeNull();
    expect(listed.find((k) => k.kid === newKid)).toMatchObject({ retiredAt: null, published: true });
    expect(JSON.stringify(listed)).not.toMatch(/"d"|privateJwk/);
  });
});
