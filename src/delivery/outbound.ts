import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

import { classifyAddress, describeKind } from './addresses.js';

export { classifyAddress, type AddressKind } from './addresses.js';

export interface OutboundOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The whole request, connection to last byte read. Default 5000. */
  readonly timeoutMs?: number;
  /** ALLOW_PRIVATE_CALLBACKS: http and loopback/private/link-local/… addresses allowed. */
  readonly allowPrivate: boolean;
}

export interface OutboundResponse {
  readonly status: number;
  /** The first 4 KiB of the response body, as UTF-8 text. */
  readonly body: string;
}

const MAX_BODY_BYTES = 4096;
const ALLOW_HINT = 'set ALLOW_PRIVATE_CALLBACKS=true to allow';

/**
 * Refuses names that resolve to a non-public address, at connect time: the address checked is
 * the one the socket connects to, so a name that answers differently the second time (DNS
 * rebinding) gains nothing. Addresses that pass are kept, the others dropped.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => classifyAddress(a.address) === null);
    const first = allowed[0];
    if (!first) {
      const refused = addresses[0];
      const why = refused ? `resolves to ${refused.address}, ${describeKind(classifyAddress(refused.address)!)}` : 'resolves to no address';
      return callback(new Error(`refused: ${hostname} ${why}; ${ALLOW_HINT}`), '', 0);
    }
    if (options.all) return callback(null, allowed);
    return callback(null, first.address, first.family);
  });
};

// Keep-alive pools, one per policy: a socket opened under allowPrivate is never reused by a
// call that forbids private addresses (the agents key sockets by host and port only).
const agents = {
  strict: { http: new HttpAgent({ keepAlive: true, maxSockets: 32 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }) },
  permissive: { http: new HttpAgent({ keepAlive: true, maxSockets: 32 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }) },
};

/**
 * Whether `url` may be registered as a callback (back-channel logout URI, SSF push endpoint):
 * https (http too with allowPrivate), no userinfo, no fragment, and without allowPrivate not a
 * literal non-public address or `localhost`. Returns the problem ("must …"), or null.
 * Names are resolved only when called: postOutbound checks the address then.
 */
export function checkCallbackUrl(url: string, options: { allowPrivate: boolean }): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && !(options.allowPrivate && parsed.protocol === 'http:')) {
    return options.allowPrivate ? 'must be an http or https URL' : `must be an https URL (http only with ALLOW_PRIVATE_CALLBACKS=true)`;
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain userinfo (user:password@)';
  if (url.includes('#')) return 'must not contain a fragment';
  if (!options.allowPrivate) {
    const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (host === 'localhost' || host.endsWith('.localhost')) return `must not point at localhost (${ALLOW_HINT})`;
    const kind = isIP(host) ? classifyAddress(host) : null;
    if (kind) return `must not point at ${describeKind(kind)} (${ALLOW_HINT})`;
  }
  return null;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'));
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) {
        done();
        res.destroy(); // the rest is not wanted
      }
    });
    res.on('end', done);
    res.on('error', reject);
  });
}

/**
 * POSTs `body` to `url`: every outbound call Tessera makes (SSF push, back-channel logout) goes
 * through here. Never follows redirects (a 3xx is a failure: the URL registered is the only one
 * called); refuses non-public addresses unless `allowPrivate`, literal or resolved; time-limited
 * as a whole. Answers the status and the start of the body, or throws an Error whose message
 * names the host, never the path or query (they may carry a credential).
 */
export async function postOutbound(url: string, options: OutboundOptions): Promise<OutboundResponse> {
  const { allowPrivate, timeoutMs = 5000 } = options;
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  // A literal address is connected to without any lookup: check it here.
  const literal = isIP(host) ? classifyAddress(host) : null;
  if (literal && !allowPrivate) throw new Error(`refused: ${host} is ${describeKind(literal)}; ${ALLOW_HINT}`);
  const problem = checkCallbackUrl(url, { allowPrivate: true });
  if (problem) throw new Error(`refused: the URL ${problem}`);
  if (parsed.protocol === 'http:' && !allowPrivate) throw new Error(`refused: ${host} over plain http; use https or ${ALLOW_HINT}`);

  const https = parsed.protocol === 'https:';
  const pool = allowPrivate ? agents.permissive : agents.strict;
  const body = Buffer.from(options.body);
  return new Promise<OutboundResponse>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(parsed, {
      method: 'POST',
      agent: https ? pool.https : pool.http,
      headers: { ...options.headers, 'content-length': String(body.length) },
      ...(allowPrivate ? {} : { lookup: guardedLookup }),
    });
    let response: IncomingMessage | undefined;
    const timer = setTimeout(() => {
      const err = new Error(`${host}: no complete answer within ${timeoutMs} ms`);
      response?.destroy(err);
      req.destroy(err);
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.destroy();
        fail(new Error(`${host} answered a redirect (${status}); callbacks never follow redirects`));
        return;
      }
      readBody(res).then((text) => {
        clearTimeout(timer);
        resolve({ status, body: text });
      }, fail);
    });
    req.end(body);
  });
}
