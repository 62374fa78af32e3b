import { Buffer } from 'node:buffer';

import { SsfError, StreamGoneError } from './errors.js';
import { POLL_DELIVERY } from './event-types.js';

/** The members of Tessera's SSF configuration (`/.well-known/ssf-configuration`) a receiver uses. */
export interface SsfMetadata {
  issuer: string;
  jwks_uri: string;
  configuration_endpoint: string;
  status_endpoint: string;
  verification_endpoint?: string;
  delivery_methods_supported?: string[];
  spec_version?: string;
}

/** A stream's configuration, as the configuration endpoint answers it. */
export interface StreamConfiguration {
  stream_id: string;
  aud?: string | string[];
  delivery: { method: string; endpoint_url: string };
  events_delivered?: string[];
  inactivity_timeout?: number;
  [member: string]: unknown;
}

/** An RFC 8936 poll request. */
export interface PollRequest {
  maxEvents: number;
  returnImmediately: boolean;
  ack: string[];
  setErrs: Record<string, { err: string; description: string }>;
}

/** An RFC 8936 poll answer: SETs by jti. */
export interface PollAnswer {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

export interface SsfClientOptions {
  /** Tessera's issuer URL; discovery documents are read under `${issuer}/.well-known/`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch | undefined;
  /** Timeout of every request but long polls, in milliseconds (default 10,000). */
  requestTimeoutMs?: number;
}

/** Token, discovery and SSF requests to Tessera. No state but the discovered metadata and the access token. */
export class SsfClient {
  readonly issuer: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number;

  private discovery: Promise<{ ssf: SsfMetadata; tokenEndpoint: string }> | undefined;
  private token: { value: string; refreshAt: number } | undefined;
  private tokenRequest: Promise<string> | undefined;

  constructor(options: SsfClientOptions) {
    this.issuer = options.issuer.replace(/\/+$/, '');
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** Tessera's SSF configuration (fetched once; fetched again after a failure). */
  async metadata(signal?: AbortSignal): Promise<SsfMetadata> {
    return (await this.discover(signal)).ssf;
  }

  private discover(signal?: AbortSignal): Promise<{ ssf: SsfMetadata; tokenEndpoint: string }> {
    if (this.discovery === undefined) {
      const discovery = (async () => {
        const [ssf, openid] = await Promise.all([
          this.getJson(`${this.issuer}/.well-known/ssf-configuration`, 'SSF configuration', signal),
          this.getJson(`${this.issuer}/.well-known/openid-configuration`, 'OpenID configuration', signal),
        ]);
        return { ssf: checkMetadata(ssf, this.issuer), tokenEndpoint: url(openid.token_endpoint, 'token_endpoint of the OpenID configuration') };
      })();
      this.discovery = discovery;
      discovery.catch(() => {
        if (this.discovery === discovery) this.discovery = undefined;
      });
    }
    return this.discovery;
  }

  /** A client_credentials access token for the SSF endpoints, refreshed at 80% of its lifetime. */
  accessToken(signal?: AbortSignal, renew = false): Promise<string> {
    if (renew) this.token = undefined;
    if (this.token !== undefined && Date.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    if (this.tokenRequest === undefined) {
      const request = this.requestToken(signal).finally(() => {
        if (this.tokenRequest === request) this.tokenRequest = undefined;
      });
      this.tokenRequest = request;
    }
    return this.tokenRequest;
  }

  private async requestToken(signal?: AbortSignal): Promise<string> {
    const { tokenEndpoint } = await this.discover(signal);
    const started = Date.now();
    const credentials = Buffer.from(`${formEncode(this.clientId)}:${formEncode(this.clientSecret)}`).toString('base64');
    const response = await this.send(tokenEndpoint, 'token endpoint', {
      method: 'POST',
      headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'ssf.manage ssf.read' }).toString(),
    }, signal);
    const body = await readJson(response);
    if (!response.ok) {
      const code = typeof body?.error === 'string' ? body.error : undefined;
      const detail = describe(code, body?.error_description);
      const permanent = response.status === 400 || response.status === 401 || response.status === 403;
      const message = permanent
        ? `Tessera's token endpoint refused the client credentials grant for client ${this.clientId}: ${detail || `HTTP ${response.status}`}`
        : `Tessera's token endpoint answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
      throw new SsfError(message, { status: response.status, code, permanent });
    }
    if (typeof body?.access_token !== 'string' || body.access_token.length === 0) {
      throw new SsfError("Tessera's token endpoint answered without an access_token", { status: response.status, permanent: true });
    }
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    this.token = { value: body.access_token, refreshAt: started + lifetime * 800 };
    return body.access_token;
  }

  /** Creates a poll stream for these event types. */
  async createStream(eventsRequested: readonly string[], description: string, signal?: AbortSignal): Promise<StreamConfiguration> {
    const { configuration_endpoint: endpoint } = await this.metadata(signal);
    const response = await this.authorized(endpoint, 'stream configuration endpoint', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ delivery: { method: POLL_DELIVERY }, events_requested: eventsRequested, description }),
    }, signal);
    const body = await readJson(response);
    if (!response.ok) throw this.failure(response, body, 'stream configuration endpoint', 'creating the stream');
    if (typeof body?.stream_id !== 'string' || typeof body.delivery !== 'object' || body.delivery === null) {
      throw new SsfError("Tessera's stream configuration endpoint answered without stream_id and delivery", { status: response.status, permanent: true });
    }
    const delivery = body.delivery as Record<string, unknown>;
    if (delivery.method !== POLL_DELIVERY) throw new SsfError(`Tessera created a stream with delivery ${String(delivery.method)}, not poll delivery`, { permanent: true });
    url(delivery.endpoint_url, 'delivery.endpoint_url of the stream');
    return body as StreamConfiguration;
  }

  /** Removes a stream (best effort at shutdown: frees it at Tessera instead of waiting for its inactivity timeout). */
  async deleteStream(streamId: string, signal?: AbortSignal): Promise<void> {
    const { configuration_endpoint: endpoint } = await this.metadata(signal);
    const target = new URL(endpoint);
    target.searchParams.set('stream_id', streamId);
    const response = await this.authorized(target.href, 'stream configuration endpoint', { method: 'DELETE' }, signal);
    if (!response.ok && response.status !== 404) throw this.failure(response, await readJson(response), 'stream configuration endpoint', 'removing the stream');
  }

  /** One poll. Throws StreamGoneError when the stream no longer exists. */
  async poll(endpointUrl: string, request: PollRequest, signal?: AbortSignal): Promise<PollAnswer> {
    const response = await this.authorized(endpointUrl, 'poll endpoint', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
    }, signal, true);
    const body = await readJson(response);
    if (response.status === 404) throw new StreamGoneError("Tessera's poll endpoint answered 404: the stream is gone");
    if (!response.ok) throw this.failure(response, body, 'poll endpoint', 'polling');
    const sets = body?.sets ?? {};
    if (typeof sets !== 'object' || sets === null || Array.isArray(sets) || Object.values(sets).some((set) => typeof set !== 'string')) {
      throw new SsfError("Tessera's poll endpoint answered without a sets object of strings", { status: response.status, permanent: false });
    }
    return { sets: sets as Record<string, string>, moreAvailable: body?.moreAvailable === true };
  }

  /** The stream's status (`enabled`, `paused`, `disabled`). Throws StreamGoneError on 404. */
  async status(streamId: string, signal?: AbortSignal): Promise<{ status: string | undefined }> {
    const { status_endpoint: endpoint } = await this.metadata(signal);
    const target = new URL(endpoint);
    target.searchParams.set('stream_id', streamId);
    const response = await this.authorized(target.href, 'status endpoint', { method: 'GET', headers: { accept: 'application/json' } }, signal);
    const body = await readJson(response);
    if (response.status === 404) throw new StreamGoneError("Tessera's status endpoint answered 404: the stream is gone");
    if (!response.ok) throw this.failure(response, body, 'status endpoint', 'reading the stream status');
    return { status: typeof body?.status === 'string' ? body.status : undefined };
  }

  /** A request with the Bearer token; on 401, once more with a new token. */
  private async authorized(target: string, what: string, init: RequestInit, signal: AbortSignal | undefined, longPoll = false): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken(signal, attempt > 0);
      const response = await this.send(target, what, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } }, signal, longPoll);
      if (response.status !== 401 || attempt > 0) return response;
      await response.body?.cancel().catch(() => {});
    }
  }

  private failure(response: Response, body: Record<string, unknown> | undefined, what: string, doing: string): SsfError {
    const code = typeof body?.error === 'string' ? body.error : undefined;
    const detail = describe(code, body?.error_description ?? body?.description);
    // Retrying cannot fix a refusal (bad request, no permission); it may fix an overloaded or restarting server.
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    return new SsfError(`Tessera's ${what} answered HTTP ${response.status} ${doing}${detail ? `: ${detail}` : ''}`, { status: response.status, code, permanent });
  }

  private async getJson(target: string, what: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const response = await this.send(target, what, { method: 'GET', headers: { accept: 'application/json' } }, signal);
    const body = await readJson(response);
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      throw new SsfError(`Tessera's ${what} (${target}) answered HTTP ${response.status}`, { status: response.status, permanent: false });
    }
    if (!response.ok) {
      const hint = response.status === 404 ? ' (is the issuer URL right, and does this Tessera offer the Shared Signals Framework?)' : '';
      throw new SsfError(`Tessera's ${what} (${target}) answered HTTP ${response.status}${hint}`, { status: response.status, permanent: true });
    }
    if (body === undefined) throw new SsfError(`Tessera's ${what} (${target}) is not a JSON object`, { status: response.status, permanent: true });
    return body;
  }

  /** fetch with a timeout (35 s for long polls) and the caller's signal; network failures become transient SsfErrors. */
  private async send(target: string, what: string, init: RequestInit, signal: AbortSignal | undefined, longPoll = false): Promise<Response> {
    const controller = new AbortController();
    const timeoutMs = longPoll ? 35_000 : this.requestTimeoutMs;
    const timer = setTimeout(() => controller.abort(new SsfError(`Tessera's ${what} did not answer within ${timeoutMs / 1000} s`, { permanent: false })), timeoutMs);
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    try {
      const response = await this.fetchImpl(target, { ...init, redirect: 'error', signal: controller.signal });
      // Read the body under the same timeout and signal.
      const text = await response.text();
      return new Response(text.length === 0 || response.status === 204 || response.status === 304 ? null : text, { status: response.status, headers: response.headers });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (controller.signal.aborted && controller.signal.reason instanceof SsfError) throw controller.signal.reason;
      const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new SsfError(`cannot reach Tessera's ${what} (${target}): ${cause}`, { permanent: false, cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function describe(code: unknown, description: unknown): string {
  const parts = [typeof code === 'string' ? code : undefined, typeof description === 'string' ? `(${description.slice(0, 200)})` : undefined];
  return parts.filter((part) => part !== undefined).join(' ');
}

function url(value: unknown, what: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new SsfError(`Tessera published no valid ${what}`, { permanent: true });
  return value;
}

function checkMetadata(body: Record<string, unknown>, issuer: string): SsfMetadata {
  if (typeof body.issuer !== 'string' || body.issuer.length === 0) throw new SsfError("Tessera's SSF configuration has no issuer", { permanent: true });
  url(body.jwks_uri, 'jwks_uri in its SSF configuration');
  url(body.configuration_endpoint, 'configuration_endpoint in its SSF configuration');
  url(body.status_endpoint, 'status_endpoint in its SSF configuration');
  const methods = body.delivery_methods_supported;
  if (Array.isArray(methods) && !methods.includes(POLL_DELIVERY)) {
    throw new SsfError(`Tessera's SSF configuration does not offer poll delivery (${POLL_DELIVERY})`, { permanent: true });
  }
  if (body.issuer.replace(/\/+$/, '') !== issuer) {
    throw new SsfError(`Tessera's SSF configuration names issuer ${body.issuer}, not ${issuer}`, { permanent: true });
  }
  return body as unknown as SsfMetadata;
}
