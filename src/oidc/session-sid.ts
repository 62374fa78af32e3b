import type { Db } from '../db/client.js';

/**
 * The `sid` a browser session uses for a client. oidc-provider copies it onto tokens only for
 * clients registered for back-channel logout (lib/models/client.js includeSid), but Tessera
 * promises `sid` on every session-bound JWT access token and introspection response, so it is
 * read from the session row when the token does not carry it.
 */
export async function sessionSid(db: Db, sessionUid: string | undefined | null, clientId: string): Promise<string | undefined> {
  if (!sessionUid) return undefined;
  const row = await db.oidcSession.findUnique({ where: { uid: sessionUid }, select: { payload: true } });
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as { authorizations?: Record<string, { sid?: string }> };
  return payload.authorizations?.[clientId]?.sid;
}
