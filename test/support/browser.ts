import { CookieJar } from 'tough-cookie';

/**
 * A minimal browser for flow tests: a cookie jar, manual redirects, and form posts — the
 * requests a user agent sends when someone fills in Tessera's pages with JavaScript off.
 */
export class Browser {
  readonly jar = new CookieJar();

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const setCookie of res.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url, { ignoreError: true });
    }
    return res;
  }

  /**
   * Follows redirects until a page answers, or until a redirect leaves for `stopAt`
   * (a relying party's redirect URI), whose URL is returned instead.
   */
  async follow(url: string, init: Parameters<Browser['request']>[1] = {}, stopAt?: string): Promise<{ url: string; res: Response | null }> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops += 1) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, res };
      current = new URL(location, current).toString();
      if (stopAt && current.startsWith(stopAt)) return { url: current, res: null };
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }
}

/** The value of a hidden input in an HTML page. */
export function hiddenInput(html: string, name: string): string {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html)
    ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden input ${name} in page:\n${html.slice(0, 2000)}`);
  return match[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The action of the first form in a page whose action matches `pattern`. */
export function formAction(html: string, pattern: RegExp): string {
  for (const m of html.matchAll(/<form[^>]*action="([^"]*)"/g)) {
    if (m[1] && pattern.test(m[1])) return m[1].replace(/&amp;/g, '&');
  }
  throw new Error(`no form matching ${pattern} in page:\n${html.slice(0, 2000)}`);
}
