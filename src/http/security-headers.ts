import helmet from 'koa-helmet';
import type { Middleware } from 'koa';

/**
 * Security headers on every response. The CSP allows no script at all; `form-action` is left
 * out on purpose: browsers apply it to the redirects that follow a form post, and sign-in and
 * logout forms end in redirects to the relying party's registered URIs.
 */
export function securityHeaders(): Middleware {
  return helmet({
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
}
