import helmet from 'koa-helmet';
import type { Context, Middleware, Next } from 'koa';

/**
 * Pages (HTML) get helmet's full set. The CSP allows no script at all; `form-action` is left
 * out on purpose: browsers apply it to the redirects that follow a form post, and sign-in and
 * logout forms end in redirects to the relying party's registered URIs.
 */
const pageHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
  strictTransportSecurity: false,
}) as unknown as Middleware;

/**
 * Everything else (JSON from the protocol endpoints and the admin API, the stylesheet, plain-text
 * redirects) is never rendered as a document: it needs only to stay what it says it is and out
 * of frames (OWASP's REST Security Cheat Sheet). Headers a browser applies to documents only
 * would double the size of a token response and cost a token request more time than its
 * database work.
 */
const RESOURCE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
};

const noop = async (): Promise<void> => undefined;

/**
 * Security headers on every response, chosen by what the response turned out to be. Runs
 * outside the error handler, so error pages get the page set too.
 */
export function securityHeaders(): Middleware {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } finally {
      if (!ctx.res.headersSent) {
        const type = ctx.response.get('Content-Type');
        if (typeof type === 'string' && type.startsWith('text/html')) await pageHeaders(ctx, noop);
        else ctx.set(RESOURCE_HEADERS);
      }
    }
  };
}
