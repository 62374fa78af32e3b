import type { Context, Next } from 'koa';

import { sendOAuthError } from './oauth-error.js';

/**
 * The form body of Tessera's own protocol endpoints (introspection, revocation), read into
 * `ctx.request.body` as a flat object of strings. These requests are small and frequent, and a
 * general body parser (nested keys, arrays, several media types) cost an introspection request
 * about as much as its database read. A body of another media type is left unread, for the
 * endpoint to refuse. Errors are OAuth error responses: a body over `limitBytes` (413), a
 * parameter given twice (RFC 6749 §3.1).
 */
export function formBody(limitBytes: number) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.is('application/x-www-form-urlencoded')) return next();
    const tooLarge = () => sendOAuthError(ctx, 413, 'invalid_request', `the request body is larger than ${limitBytes} bytes`);
    if (Number(ctx.get('content-length') || 0) > limitBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) return tooLarge();
      chunks.push(chunk);
    }
    const body: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, value] of new URLSearchParams(Buffer.concat(chunks, size).toString('utf8'))) {
      if (name in body) return sendOAuthError(ctx, 400, 'invalid_request', `parameter "${name}" was given more than once`);
      body[name] = value;
    }
    ctx.request.body = body;
    return next();
  };
}
