// A minimal user agent for driving Tessera's pages: a cookie jar, manual redirects, form posts
// (the same requests a browser with JavaScript off sends). Mirrors test/support/browser.ts.
import { CookieJar } from 'tough-cookie';

export class Browser {
  jar = new CookieJar();

  /** `onHeaders()` is called as soon as the response's headers are in (before its cookies are stored). */
  async request(url, { method, form, headers = {}, onHeaders } = {}) {
    const h = { accept: 'text/html', ...headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) h.cookie = cookie;
    let body;
    if (form) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method: method ?? (form ? 'POST' : 'GET'), headers: h, body, redirect: 'manual' });
    onHeaders?.();
    for (const c of res.headers.getSetCookie()) await this.jar.setCookie(c, url, { ignoreError: true });
    return res;
  }

  /** Follows redirects until a page answers, or a redirect leaves for `stopAt` (returned as url). */
  async follow(url, init = {}, stopAt) {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops += 1) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, res };
      await res.arrayBuffer();
      current = new URL(location, current).toString();
      if (stopAt && current.startsWith(stopAt)) return { url: current, res: null };
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }
}

const unescape = (s) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

export function hiddenInput(html, name) {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html)
    ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  if (!m?.[1]) throw new Error(`no hidden input ${name} in page`);
  return unescape(m[1]);
}

export function formAction(html, pattern) {
  for (const m of html.matchAll(/<form[^>]*action="([^"]*)"/g)) if (pattern.test(m[1])) return unescape(m[1]);
  throw new Error(`no form matching ${pattern} in page`);
}
