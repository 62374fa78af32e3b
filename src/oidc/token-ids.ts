import type Provider from 'oidc-provider';

import { timeOrderedId } from '../hash.js';

/**
 * The models whose ids Tessera makes time-ordered: the tokens and grants written on every
 * sign-in, token request and rotation. Their rows are keyed by `hashIdentifier(id)`, which for
 * a time-ordered id starts with the issue time, so a new row lands at the end of its table's
 * key index. With random keys every row dirtied its own index page, and each dirtied page is
 * written to the WAL at commit and again at checkpoint: on SQLite, 2–4× the cost of a token
 * write (bench/README.md). The random part is oidc-provider's own, as long as before.
 */
const TIME_ORDERED_MODELS = ['AccessToken', 'ClientCredentials', 'RefreshToken', 'AuthorizationCode', 'Grant'] as const;

interface ModelClass {
  prototype: { generateTokenId(this: unknown): string };
}

/** Gives one provider instance's models time-ordered ids (each provider has its own classes). */
export function useTimeOrderedIds(provider: Provider): void {
  for (const name of TIME_ORDERED_MODELS) {
    const { prototype } = (provider as unknown as Record<string, ModelClass>)[name]!;
    const randomId = prototype.generateTokenId;
    prototype.generateTokenId = function generateTimeOrderedId() {
      return timeOrderedId(randomId.call(this));
    };
  }
}
