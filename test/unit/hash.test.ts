import { createHash, createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { constantTimeEqual, digestsEqual, hashIdentifier, keyedHash, openWith, sealWith, timeOrderedId } from '../../src/hash.js';

describe('sealWith / openWith', () => {
  it('round-trips, including non-ASCII and empty values', () => {
    for (const value of ['device-code-123', 'ünïcødé ✓', '']) {
      expect(openWith('user-code', sealWith('user-code', value))).toBe(value);
    }
  });

  it('uses a fresh IV: sealing twice gives different output, both open', () => {
    const a = sealWith('k', 'v');
    const b = sealWith('k', 'v');
    expect(a).not.toBe(b);
    expect(openWith('k', a)).toBe('v');
    expect(openWith('k', b)).toBe('v');
  });

  it('does not contain the value in clear', () => {
    const value = 'PLAINTEXT-DEVICE-CODE';
    const sealed = sealWith('k', value);
    expect(sealed).not.toContain(value);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain(value);
  });

  it('returns null for the wrong secret', () => {
    const sealed = sealWith('ABCD-EFGH', 'secret value');
    expect(openWith('ABCD-EFGX', sealed)).toBeNull();
    expect(openWith('', sealed)).toBeNull();
  });

  it.each([
    ['the IV', 0],
    ['the tag', 12],
    ['the ciphertext', 28],
  ])('returns null when %s is tampered with', (_part, index) => {
    const raw = Buffer.from(sealWith('k', 'some sealed value'), 'base64url');
    raw[index]! ^= 0x01;
    expect(openWith('k', raw.toString('base64url'))).toBeNull();
  });

  it('returns null for truncated or garbage input', () => {
    const sealed = sealWith('k', 'value');
    expect(openWith('k', sealed.slice(0, 20))).toBeNull();
    expect(openWith('k', sealed.slice(0, -2))).toBeNull();
    expect(openWith('k', '')).toBeNull();
    expect(openWith('k', 'not base64 at all!')).toBeNull();
  });
});

describe('hashIdentifier / keyedHash / constantTimeEqual', () => {
  it('hashIdentifier is SHA-256 base64url, deterministic', () => {
    expect(hashIdentifier('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(hashIdentifier('abc')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a time-ordered id is the issue time in 12 hex digits, a tilde, then the random id', () => {
    expect(timeOrderedId('RANDOM_part-1', 0x19a8c3f2b10)).toBe('019a8c3f2b10~RANDOM_part-1');
    expect(timeOrderedId('r', 1)).toBe('000000000001~r');
  });

  it('hashIdentifier keeps the time prefix of a time-ordered id, then its SHA-256; the id itself is not in the key', () => {
    const id = timeOrderedId('oidc-provider-random-id-0123456789abcdefghij', 0x19a8c3f2b10);
    const key = hashIdentifier(id);
    expect(key).toBe(`019a8c3f2b10${createHash('sha256').update(id).digest('base64url')}`);
    expect(key).not.toContain('oidc-provider-random-id');
    expect(hashIdentifier(key)).not.toBe(key); // a stored key is no id: it has no tilde, so it is simply hashed
  });

  it('ids without the prefix hash as before (tokens issued before time-ordered ids still resolve)', () => {
    for (const id of ['abc', 'abcdef012345', 'abcdef012345-rest', 'abcdef012345.rest', 'ABCDEF012345~rest', '19a8c3f2b10~rest', '019a8c3f2b10x~rest']) {
      expect(hashIdentifier(id)).toBe(createHash('sha256').update(id).digest('base64url'));
    }
  });

  it('keys of ids made later sort after those made earlier (bytewise, as SQLite and PostgreSQL "C" order them)', () => {
    const times = [1, 0xf, 0x10, 0x19a8c3f2b10, 0x19a8c3f2b11, 0x1a000000000, 0xfffffffffff];
    const keys = times.map((t) => hashIdentifier(timeOrderedId('zzzz', t)));
    expect([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(keys);
  });

  it('keyedHash depends on the key', () => {
    expect(keyedHash('k1', 'v')).toBe(keyedHash('k1', 'v'));
    expect(keyedHash('k1', 'v')).not.toBe(keyedHash('k2', 'v'));
    expect(keyedHash('k1', 'v')).not.toBe(hashIdentifier('v'));
  });

  it('keyedHash is HMAC-SHA-256 (RFC 4231 test case 2), so stored client-secret hashes stay valid', () => {
    expect(Buffer.from(keyedHash('Jefe', 'what do ya want for nothing?'), 'base64url').toString('hex'))
      .toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    // A key is its UTF-8 bytes, as when node:crypto is handed the string itself.
    expect(keyedHash('clé-ключ', 'v')).toBe(createHmac('sha256', 'clé-ключ').update('v').digest('base64url'));
  });

  it('keyedHash equals node:crypto HMAC for keys shorter than, equal to and longer than the 64-byte block (RFC 4231 case 6: a 131-byte key)', () => {
    const case6 = Buffer.alloc(131, 0xaa).toString('latin1');
    expect(createHmac('sha256', Buffer.from(case6, 'utf8')).update('Test Using Larger Than Block-Size Key - Hash Key First').digest('base64url'))
      .toBe(keyedHash(case6, 'Test Using Larger Than Block-Size Key - Hash Key First'));
    for (const keyLength of [0, 1, 32, 63, 64, 65, 100, 200]) {
      const key = 'k'.repeat(keyLength);
      for (const value of ['', 'v', 'x'.repeat(55), 'x'.repeat(64), 'ü'.repeat(300)]) {
        expect(keyedHash(key, value)).toBe(createHmac('sha256', key).update(value).digest('base64url'));
      }
    }
    // A multi-byte key whose characters straddle the block boundary.
    const wide = 'ключ'.repeat(9);
    expect(keyedHash(wide, 'v')).toBe(createHmac('sha256', wide).update('v').digest('base64url'));
  });

  it('digestsEqual compares digests exactly, whatever their encoding', () => {
    const d = keyedHash('k', 'secret');
    expect(digestsEqual(d, keyedHash('k', 'secret'))).toBe(true);
    expect(digestsEqual(d, keyedHash('k', 'secret '))).toBe(false);
    expect(digestsEqual(d, d.slice(0, -1))).toBe(false);
    expect(digestsEqual(d, `${d}A`)).toBe(false);
    expect(digestsEqual('ü', 'ü')).toBe(true);
    expect(digestsEqual('ü', 'ý')).toBe(false);
    expect(digestsEqual('Ā', '\u0000')).toBe(false); // no narrowing of characters to bytes
    expect(digestsEqual('é', 'e\u0301')).toBe(false);
  });

  it('constantTimeEqual compares exactly', () => {
    expect(constantTimeEqual('same', 'same')).toBe(true);
    expect(constantTimeEqual('same', 'Same')).toBe(false);
    expect(constantTimeEqual('same', 'same ')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});
