import type { TestServer } from './server.js';

/** A client_credentials access token for an API (a JWT when the API uses JWTs). */
export async function clientCredentialsJwt(server: TestServer, client: { clientId: string; clientSecret: string }, resource: string, scope = 'read'): Promise<string> {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`client_credentials answered ${res.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}
