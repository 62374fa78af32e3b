import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkCallbackUrl, classifyAddress, postOutbound } from '../../src/delivery/outbound.js';

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    // IPv4-mapped IPv6, dotted and hex (how URL parsing writes it), NAT64 and 6to4 embeddings.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2002:808:808::'])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });
});

describe('checkCallbackUrl', () => {
  const strict = { allowPrivate: false };
  const lax = { allowPrivate: true };

  it('accepts https URLs of public hosts', () => {
    expect(checkCallbackUrl('https://rp.example.com/bcl?x=1', strict)).toBeNull();
  });

  it('wants https unless private callbacks are allowed', () => {
    expect(checkCallbackUrl('http://rp.example.com/bcl', strict)).toMatch(/https/);
    expect(checkCallbackUrl('http://127.0.0.1:8080/bcl', lax)).toBeNull();
    expect(checkCallbackUrl('ftp://rp.example.com/bcl', lax)).toMatch(/http or https/);
  });

  it('refuses userinfo, fragments and non-URLs', () => {
    expect(checkCallbackUrl('https://user:pw@rp.example.com/bcl', strict)).toMatch(/userinfo/);
    expect(checkCallbackUrl('https://rp.example.com/bcl#x', strict)).toMatch(/fragment/);
    expect(checkCallbackUrl('https://rp.example.com/bcl#', lax)).toMatch(/fragment/);
    expect(checkCallbackUrl('/bcl', strict)).toMatch(/absolute URL/);
  });

  it('refuses literal non-public hosts and localhost unless allowed', () => {
    expect(checkCallbackUrl('https://127.0.0.1/bcl', strict)).toBe('must not point at a loopback address (set ALLOW_PRIVATE_CALLBACKS=true to allow)');
    expect(checkCallbackUrl('https://[::ffff:10.0.0.1]/bcl', strict)).toMatch(/private address/);
    expect(checkCallbackUrl('https://localhost/bcl', strict)).toMatch(/localhost/);
    expect(checkCallbackUrl('https://localhost./bcl', strict)).toMatch(/localhost/);
    expect(checkCallbackUrl('https://api.localhost/bcl', strict)).toMatch(/localhost/);
    expect(checkCallbackUrl('https://127.0.0.1/bcl', lax)).toBeNull();
  });
});

describe('postOutbound against a real local server', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const closed: string[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    seen.push({ path: req.url ?? '', headers: req.headers, body });
    switch (req.url) {
      case '/ok':
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
        break;
      case '/big':
        res.writeHead(200).end('x'.repeat(10_000));
        break;
      case '/redirect':
        res.writeHead(302, { location: `${base}/ok` }).end();
        break;
      case '/slow':
        // Never answers; the socket's closing is what the test waits for.
        res.on('close', () => closed.push('/slow'));
        break;
      default:
        res.writeHead(404).end();
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  const post = (path: string, allowPrivate: boolean, timeoutMs?: number) =>
    postOutbound(`${base}${path}`, { headers: { 'content-type': 'text/plain' }, body: 'hello', allowPrivate, ...(timeoutMs ? { timeoutMs } : {}) });

  it('refuses a loopback address by default, before any connection', async () => {
    const before = seen.length;
    await expect(post('/ok', false)).rejects.toThrow('refused: 127.0.0.1 is a loopback address; set ALLOW_PRIVATE_CALLBACKS=true to allow');
    const port = new URL(base).port;
    await expect(postOutbound(`http://[::ffff:127.0.0.1]:${port}/ok`, { headers: {}, body: '', allowPrivate: false })).rejects.toThrow(/loopback address/);
    expect(seen.length).toBe(before);
  });

  it('refuses a name that resolves to a loopback address, at connect time', async () => {
    const before = seen.length;
    const port = new URL(base).port;
    // https, so that only the address rule can refuse it (the lookup refuses before any TLS).
    await expect(postOutbound(`https://localhost:${port}/ok`, { headers: {}, body: '', allowPrivate: false })).rejects.toThrow(/refused: localhost resolves to .*, a loopback address/);
    expect(seen.length).toBe(before);
  });

  it('refuses plain http by default, whatever the host', async () => {
    await expect(postOutbound('http://rp.example.com/bcl', { headers: {}, body: '', allowPrivate: false })).rejects.toThrow(/refused: rp.example.com over plain http/);
  });

  it('posts with allowPrivate: status, body, headers and content-length', async () => {
    const res = await post('/ok', true);
    expect(res).toEqual({ status: 202, body: '{"accepted":true}' });
    const request = seen.at(-1)!;
    expect(request.body).toBe('hello');
    expect(request.headers['content-type']).toBe('text/plain');
    expect(request.headers['content-length']).toBe('5');
  });

  it('keeps only the first 4 KiB of a body', async () => {
    const res = await post('/big', true);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(4096);
  });

  it('never follows a redirect: a 3xx is a failure', async () => {
    const before = seen.length;
    await expect(post('/redirect', true)).rejects.toThrow(/redirect \(302\)/);
    // Only the redirecting request reached the server: /ok was not called.
    expect(seen.slice(before).map((r) => r.path)).toEqual(['/redirect']);
  });

  it('gives up on a server that does not answer in time, and closes the connection', async () => {
    const started = performance.now();
    await expect(post('/slow', true, 300)).rejects.toThrow('127.0.0.1: no complete answer within 300 ms');
    expect(performance.now() - started).toBeLessThan(5000);
    await expect.poll(() => closed.includes('/slow'), { timeout: 5000 }).toBe(true);
  });

  it('reports a refused connection as an error', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    probe.close();
    await once(probe, 'close');
    await expect(postOutbound(`http://127.0.0.1:${port}/`, { headers: {}, body: '', allowPrivate: true })).rejects.toThrow(/ECONNREFUSED/);
  });
});
