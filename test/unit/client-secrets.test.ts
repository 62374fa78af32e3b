import { describe, expect, it, vi } from 'vitest';

import { createClientSecretHasher, readClientCredentials } from '../../src/clients/client-secrets.js';
import * as hash from '../../src/hash.js';

// Wrap constantTimeEqual (transparently) so the hasher's use of it can be observed.
vi.mock('../../src/hash.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/hash.js')>();
  return { ...original, digestsEqual: vi.fn(original.digestsEqual) };
});

const basic = (raw: string): string => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('readClientCredentials: HTTP Basic', () => {
  it('reads a plain id and secret', () => {
    expect(readClientCredentials(basic('client-1:s3cret'), undefined)).toEqual({ clientId: 'client-1', clientSecret: 's3cret', via: 'basic' });
  });

  it('form-decodes both parts (RFC 6749 §2.3.1): "+" is a space, %3A a colon, %2B a plus', () => {
    expect(readClientCredentials(basic('my+client%3A1:pa%2Bss%3Aword+x'), undefined)).toEqual({
      clientId: 'my client:1',
      clientSecret: 'pa+ss:word x',
      via: 'basic',
    });
  });

  it('round-trips what encodeURIComponent produces for awkward values', () => {
    const id = 'a:b c+d/é';
    const secret = 'x:y+z%w~ !';
    const header = basic(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`);
    expect(readClientCredentials(header, undefined)).toEqual({ clientId: id, clientSecret: secret, via: 'basic' });
  });

  it('splits at the first colon only', () => {
    expect(readClientCredentials(basic('id:se:cret'), undefined)).toMatchObject({ clientId: 'id', clientSecret: 'se:cret' });
  });

  it('accepts any case of the scheme and surrounding whitespace', () => {
    expect(readClientCredentials(`  basic ${Buffer.from('a:b').toString('base64')} `, undefined)).toMatchObject({ clientId: 'a', clientSecret: 'b' });
  });

  it('an empty secret is still a presented (empty) secret', () => {
    expect(readClientCredentials(basic('id:'), undefined)).toEqual({ clientId: 'id', clientSecret: '', via: 'basic' });
  });

  it('takes Basic over body credentials', () => {
    expect(readClientCredentials(basic('a:b'), { client_id: 'c', client_secret: 'd' })).toMatchObject({ clientId: 'a', via: 'basic' });
  });

  it.each([
    ['another scheme', 'Bearer abc'],
    ['no credentials', 'Basic'],
    ['empty credentials', 'Basic '],
    ['non-base64 characters', 'Basic !!!!'],
    ['two tokens', `Basic ${Buffer.from('a:b').toString('base64')} extra`],
    ['no colon', basic('just-an-id')],
    ['empty client_id', basic(':secret')],
  ])('throws a TypeError for %s', (_what, header) => {
    expect(() => readClientCredentials(header, undefined)).toThrow(TypeError);
  });

  it('throws a TypeError naming the encoding problem for bad percent-encoding', () => {
    expect(() => readClientCredentials(basic('id:%E0%A4%A'), undefined)).toThrow(/not properly encoded/);
    expect(() => readClientCredentials(basic('%ZZ:secret'), undefined)).toThrow(TypeError);
  });
});

describe('readClientCredentials: client_secret_post and none', () => {
  it('reads client_id and client_secret from the body, verbatim (no form decoding twice)', () => {
    expect(readClientCredentials(undefined, { client_id: 'c+1', client_secret: 'a%3Ab' })).toEqual({ clientId: 'c+1', clientSecret: 'a%3Ab', via: 'post' });
  });

  it('an empty Authorization header falls back to the body', () => {
    expect(readClientCredentials('', { client_id: 'c', client_secret: 's' })).toMatchObject({ via: 'post' });
  });

  it('a client_id without a secret is a public client (secret undefined)', () => {
    expect(readClientCredentials(undefined, { client_id: 'pub' })).toEqual({ clientId: 'pub', clientSecret: undefined, via: 'post' });
    expect(readClientCredentials(undefined, { client_id: 'pub', client_secret: ['x'] })).toMatchObject({ clientSecret: undefined });
  });

  it('returns null when nothing identifies a client', () => {
    expect(readClientCredentials(undefined, undefined)).toBeNull();
    expect(readClientCredentials(undefined, {})).toBeNull();
    expect(readClientCredentials(undefined, { client_id: '' })).toBeNull();
    expect(readClientCredentials(undefined, { client_id: ['a'] })).toBeNull();
  });
});

describe('createClientSecretHasher', () => {
  const hasher = createClientSecretHasher('server-key-1');

  it('generates long, distinct, URL-safe secrets', () => {
    const a = hasher.generate();
    const b = hasher.generate();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });

  it('hashes deterministically under its key, never to the secret itself', () => {
    const s = hasher.generate();
    expect(hasher.hash(s)).toBe(hasher.hash(s));
    expect(hasher.hash(s)).not.toContain(s);
    expect(createClientSecretHasher('server-key-2').hash(s)).not.toBe(hasher.hash(s));
  });

  it('matches the right secret and rejects wrong ones', () => {
    const s = hasher.generate();
    const stored = hasher.hash(s);
    expect(hasher.matches(s, stored)).toBe(true);
    expect(hasher.matches(`${s}x`, stored)).toBe(false);
    expect(hasher.matches(s.slice(0, -1), stored)).toBe(false);
    expect(hasher.matches('', stored)).toBe(false);
    expect(hasher.matches(stored, stored)).toBe(false); // the hash is not a password
    expect(createClientSecretHasher('server-key-2').matches(s, stored)).toBe(false);
  });

  it('compares through the constant-time helper', () => {
    const s = hasher.generate();
    const stored = hasher.hash(s);
    vi.mocked(hash.digestsEqual).mockClear();
    expect(hasher.matches('wrong', stored)).toBe(false);
    expect(hasher.matches(s, stored)).toBe(true);
    expect(hash.digestsEqual).toHaveBeenCalledTimes(2);
  });
});

describe('generated client ids', () => {
  it('never start with "-" (the CLI would take them for an option)', async () => {
    const { generateClientId } = await import('../../src/clients/clients.js');
    for (let i = 0; i < 5000; i += 1) {
      const id = generateClientId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
