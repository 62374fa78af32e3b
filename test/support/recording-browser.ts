import { createHmac } from 'node:crypto';

import { Browser } from './browser.js';

/**
 * A Browser that remembers every cookie value it was ever sent and every redirect target
 * (authorization codes travel in those), for tests about what must never be stored.
 */
export class RecordingBrowser extends Browser {
  readonly cookieValues = new Map<string, Set<string>>();
  readonly locations: string[] = [];

  override async request(url: string, init: Parameters<Browser['request']>[1] = {}): Promise<Response> {
    const res = await super.request(url, init);
    for (const setCookie of res.headers.getSetCookie()) {
      const match = /^([^=;\s]+)=([^;]*)/.exec(setCookie);
      if (!match?.[1] || !match[2]) continue;
      const values = this.cookieValues.get(match[1]) ?? new Set<string>();
      values.add(decodeURIComponent(match[2]));
      this.cookieValues.set(match[1], values);
    }
    const location = res.headers.get('location');
    if (location) this.locations.push(new URL(location, url).toString());
    return res;
  }

  /** Every cookie value seen, by name (Set-Cookie history plus what the jar holds now). */
  async allCookieValues(url: string): Promise<Map<string, Set<string>>> {
    const all = new Map([...this.cookieValues].map(([k, v]) => [k, new Set(v)]));
    for (const cookie of await this.jar.getCookies(url, { allPaths: true })) {
      const values = all.get(cookie.key) ?? new Set<string>();
      values.add(cookie.value);
      all.set(cookie.key, values);
    }
    return all;
  }
}

/** A Koa/`cookies` signature (`<name>.sig`) for `name=value` under a key (keygrip: HMAC-SHA1, url-safe base64). */
export function cookieSignature(name: string, value: string, key: string): string {
  return createHmac('sha1', key).update(`${name}=${value}`).digest('base64').replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x]!);
}
