import argon2 from 'argon2';
import pLimit from 'p-limit';

export interface Argon2Parameters {
  readonly memoryKib: number;
  readonly timeCost: number;
  readonly parallelism: number;
  /** Hashes computed at once; the rest wait their turn (a login flood must not take every core). */
  readonly concurrency: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; `needsRehash` is true when the stored hash used other parameters. */
  verify(hash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Spends the time of one verification without a real hash (unknown e-mail). */
  decoyVerify(password: string): Promise<void>;
}

export const MAX_PASSWORD_LENGTH = 1024;

/**
 * argon2id with configurable cost (OWASP baseline m=19456 KiB, t=2, p=1). argon2 runs on
 * libuv's thread pool, so it never blocks the event loop, but a flood of sign-ins could still
 * keep every core busy hashing; at most `concurrency` hashes run at once (by default one core
 * fewer than the machine has), so token checks keep a core.
 */
export function createPasswordHasher(params: Argon2Parameters): PasswordHasher {
  const limit = pLimit(params.concurrency);
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  } as const;
  let decoy: Promise<string> | undefined;

  return {
    hash: (password) => limit(() => argon2.hash(password, options)),
    async verify(hash, password) {
      let ok = false;
      try {
        ok = await limit(() => argon2.verify(hash, password));
      } catch {
        ok = false; // a malformed stored hash never authenticates
      }
      return { ok, needsRehash: ok && argon2.needsRehash(hash, options) };
    },
    async decoyVerify(password) {
      decoy ??= limit(() => argon2.hash('tessera-decoy-password', options));
      const hash = await decoy;
      await limit(() => argon2.verify(hash, password)).catch(() => false);
    },
  };
}
