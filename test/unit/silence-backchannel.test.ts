import Provider from 'oidc-provider';
import { describe, expect, it, vi } from 'vitest';

import { silenceBackchannelLogout } from '../../src/oidc/silence-backchannel.js';

type Sender = (this: unknown, sub: string, sid: string) => Promise<void>;
const senderOf = (provider: Provider): Sender => (provider as unknown as { Client: { prototype: { backchannelLogout: Sender } } }).Client.prototype.backchannelLogout;

describe('silenceBackchannelLogout', () => {
  it('replaces the method oidc-provider\'s end-session step calls, on that provider only', async () => {
    // A bare Provider warns about its development defaults; they do not matter here.
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const provider = new Provider('http://127.0.0.1:1', { features: { backchannelLogout: { enabled: true } } });
    const other = new Provider('http://127.0.0.1:2', { features: { backchannelLogout: { enabled: true } } });
    const original = senderOf(provider);
    // The upstream method still exists under this name (lib/models/client.js): otherwise the
    // replacement would silently silence nothing.
    expect(original).toBeTypeOf('function');
    expect(original.toString()).toContain('logout_token');

    silenceBackchannelLogout(provider);

    expect(senderOf(provider)).not.toBe(original);
    await expect(senderOf(provider).call({ backchannelLogoutUri: 'https://rp.example.com/bcl' }, 'sub', 'sid')).resolves.toBeUndefined();
    expect(senderOf(other).toString()).toContain('logout_token');
  });
});
