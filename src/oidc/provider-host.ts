import type { JWK } from 'jose';
import type Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';

import type { Db } from '../db/client.js';
import type { Logger } from '../log.js';
import { loadSigningKeys, signingKeysVersion, type SigningAlg } from './keys.js';

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']);

export function toPublicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_JWK_MEMBERS.has(k))) as JWK;
}

/**
 * Holds the live oidc-provider instance. oidc-provider fixes its keystore at construction, so
 * when the signing keys change in the database (`tessera keys rotate`, on any instance) the host
 * builds a new provider and swaps it in atomically; requests already running finish on the old
 * one. Every instance polls the key version, so a rotation reaches all of them without restart.
 */
export interface ProviderHost {
  current(): Provider;
  publicJwks(): JWK[];
  /** The private key that signs now (keys[0], the one ID tokens use), e.g. for logout tokens. */
  signingKey(): { jwk: JWK; alg: string };
  /** Koa middleware that hands each request to the current provider. */
  middleware(): Koa.Middleware;
  /** Rebuilds the provider if the keys changed; true when it did. */
  reloadIfChanged(): Promise<boolean>;
  startWatching(intervalSeconds: number): void;
  stop(): void;
}

export async function createProviderHost(deps: {
  db: Db;
  alg: SigningAlg;
  overlapSeconds: number;
  build: (jwks: JWK[]) => Provider;
  log: Logger;
}): Promise<ProviderHost> {
  const { db, alg, overlapSeconds, log } = deps;
  const load = async () => {
    const set = await loadSigningKeys(db, alg, overlapSeconds);
    const provider = deps.build(set.keys);
    const signing = set.keys[0]!;
    return { provider, mounted: mount(provider as unknown as Koa), publicJwks: set.keys.map(toPublicJwk), signing: { jwk: signing, alg: signing.alg! }, version: set.version };
  };
  let state = await load();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  async function reloadIfChanged(): Promise<boolean> {
    if ((await signingKeysVersion(db, overlapSeconds)) === state.version) return false;
    state = await load();
    log.info({ event: 'keys.reloaded', kids: state.publicJwks.map((k) => k.kid) }, 'signing keys reloaded');
    return true;
  }

  return {
    current: () => state.provider,
    publicJwks: () => state.publicJwks,
    signingKey: () => state.signing,
    middleware: () => (ctx, next) => state.mounted(ctx, next),
    reloadIfChanged,
    startWatching(intervalSeconds) {
      timer = setInterval(() => {
        if (checking) return;
        checking = true;
        reloadIfChanged()
          .catch((err: Error) => log.warn({ event: 'keys.reload_failed', err: { message: err.message } }, 'could not check signing keys'))
          .finally(() => {
            checking = false;
          });
      }, intervalSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
