// Logout of one browser session holding 1, 10 and 100 grants: the browser signs in once
// (password) and then to N-1 more clients (consent only), exchanging each code for tokens. The
// figure is the time from POSTing the logout confirm form to its response; afterwards every
// access and refresh token of the session must be inactive at introspection.
import { Browser, codeFlow, logout } from '../lib/flow.mjs';
import { median, post } from '../lib/load.mjs';

export const LOGOUT_GRANTS = [1, 10, 100];
export const LOGOUT_REPETITIONS = Number(process.env.BENCH_LOGOUT_REPS ?? 5);

export async function logoutScenarios(ctx, kind, record) {
  const { server, seeded, password } = ctx;
  const clients = [ctx.appClient, ...seeded.logoutClients.map((id) => ctx.client(id))];
  let nextUser = 0;
  const out = [];
  for (const grants of LOGOUT_GRANTS) {
    if (grants > clients.length) throw new Error(`need ${grants} clients, seeded ${clients.length}`);
    const times = [];
    let stillActive = 0;
    let checked = 0;
    for (let rep = 0; rep < LOGOUT_REPETITIONS; rep += 1) {
      const user = seeded.users[nextUser];
      nextUser += 1;
      const browser = new Browser();
      const tokens = [];
      let passwordPages = 0;
      for (const client of clients.slice(0, grants)) {
        const r = await codeFlow(server.url, browser, client, { email: user.email, password });
        passwordPages += r.passwordPages;
        tokens.push(r.tokens.access_token, r.tokens.refresh_token);
      }
      if (passwordPages !== 1) throw new Error(`logout set-up: expected one password sign-in, saw ${passwordPages}`);
      const before = await post(`${server.url}/token/introspection`, { token: tokens[tokens.length - 1], token_type_hint: 'refresh_token' }, ctx.rsAuth);
      if (before.active !== true) throw new Error('logout set-up: a token of the session is not active before logout');
      times.push(await logout(server.url, browser, clients[0].clientId));
      for (const token of tokens) {
        const status = await post(`${server.url}/token/introspection`, { token }, ctx.rsAuth);
        checked += 1;
        if (status.active !== false) stillActive += 1;
      }
    }
    const result = {
      grants,
      repetitions: LOGOUT_REPETITIONS,
      medianMs: Number(median(times).toFixed(1)),
      maxMs: Number(Math.max(...times).toFixed(1)),
      timesMs: times.map((t) => Number(t.toFixed(1))),
      tokensChecked: checked,
      tokensStillActive: stillActive,
    };
    out.push(result);
    record(`logout: session with ${grants} grant${grants === 1 ? '' : 's'}`, kind, null, {
      requestsPerSecond: null, p50ms: result.medianMs, p99ms: null, errors: stillActive, ...result,
    });
  }
  return out;
}
