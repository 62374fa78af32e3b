import argon2 from 'argon2';

export interface Argon2Parameters {
  readonly memoryKib: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; `needsRehash` is true when the stored hash used other parameters. */
  verify(hash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Spends the time of one verification without a real hash (unknown e-mail). */
  decoyVerify(password: string): Promise<void>;
}

export const MAX_PASSWORD_LENGTH = 1024;

/** argon2id with configurable cost (OWASP baseline m=19456 KiB, t=2, p=1). */
export function createPasswordHasher(params: Argon2Parameters): PasswordHasher {
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  } as const;
  let decoy: Promise<string> | undefined;

  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      let ok = false;
      try {
        ok = await argon2.verify(hash, password);
      } catch {
        ok = false; // a malformed stored hash never authenticates
      }
      return { ok, needsRehash: ok && argon2.needsRehash(hash, options) };
    },
    async decoyVerify(password) {
      decoy ??= argon2.hash('tessera-decoy-password', options);
      await argon2.verify(await decoy, password).catch(() => false);
    },
  };
}
