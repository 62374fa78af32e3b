import type Router from '@koa/router';

import type { Services } from '../../app.js';
import { notFound } from '../../errors.js';
import { ADMIN_ROLE } from '../users.js';
import { actorOf, done, formBody, noticeOf, type PageContext, type PageKit } from './page-kit.js';

const PAGE_SIZE = 50;

/** Users: search, create, and the user page with sessions, grants and every revocation. */
export function registerUserPages(router: Router, deps: { services: Services; kit: PageKit }): void {
  const { services, kit } = deps;
  const users = services.userAdmin;
  const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

  router.get('/users', async (ctx) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q : '';
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    await kit.attempt(ctx, '/admin/users', async () => {
      const page = await users.list({ query: q || undefined, limit: PAGE_SIZE, cursor });
      kit.render(ctx, 'users', { title: 'Users', nav: 'users', q, page, notice: noticeOf(ctx) });
    });
  });

  router.get('/users/new', (ctx) => kit.render(ctx, 'user-new', { title: 'New user', nav: 'users', email: '' }));

  router.post('/users', async (ctx) => {
    const body = formBody(ctx);
    await kit.formAttempt(ctx, 'user-new', { title: 'New user', nav: 'users', email: body.email ?? '', makeAdmin: body.admin === 'on' }, async () => {
      const user = await users.create({ email: body.email ?? '', password: body.password ?? '', roles: body.admin === 'on' ? [ADMIN_ROLE] : [] }, actorOf(ctx));
      done(ctx, userPath(user.id), 'user-created');
    });
  });

  router.get('/users/:id', async (ctx) => {
    await kit.attempt(ctx, '/admin/users', async () => {
      const [user, sessions, grants] = await Promise.all([users.get(ctx.params.id!), users.sessions(ctx.params.id!), users.grants(ctx.params.id!)]);
      kit.render(ctx, 'user', { title: user.email, nav: 'users', user, sessions, grants, isAdmin: user.roles.includes(ADMIN_ROLE), notice: noticeOf(ctx), path: userPath(user.id) });
    });
  });

  const back = (ctx: PageContext) => userPath(ctx.params.id!);
  const email = async (ctx: PageContext) => (await users.get(ctx.params.id!)).email;

  /** "Session of alice@example.com, Firefox on Linux, 203.0.113.9" for the confirmation page. */
  async function sessionSubject(ctx: PageContext): Promise<string> {
    const session = (await users.sessions(ctx.params.id!)).find((s) => s.id === ctx.params.sid);
    if (!session) throw notFound('session');
    return `Session of ${await email(ctx)}: ${session.userAgent ?? 'unknown device'}, ${session.ip ?? 'unknown address'}`;
  }

  async function grantSubject(ctx: PageContext): Promise<string> {
    const grant = (await users.grants(ctx.params.id!)).find((g) => g.id === ctx.params.gid);
    if (!grant) throw notFound('grant');
    return `${grant.clientName ?? grant.clientId}'s access for ${await email(ctx)} (${grant.tokensOutstanding} tokens outstanding)`;
  }

  router.post('/users/:id/sessions/:sid/revoke', kit.action({
    back,
    confirm: { heading: 'Revoke this session?', message: 'The browser session ends, and every grant and token in it stops working at once.', button: 'Revoke session', subject: sessionSubject },
    run: (ctx) => users.revokeSession(ctx.params.id!, ctx.params.sid!, actorOf(ctx)).then(() => undefined),
    notice: 'session-revoked',
  }));

  router.post('/users/:id/grants/:gid/revoke', kit.action({
    back,
    confirm: { heading: 'Revoke this grant?', message: 'The application loses its access: every access and refresh token of this grant stops working at once.', button: 'Revoke grant', subject: grantSubject },
    run: (ctx) => users.revokeGrant(ctx.params.id!, ctx.params.gid!, actorOf(ctx)).then(() => undefined),
    notice: 'grant-revoked',
  }));

  router.post('/users/:id/signout', kit.action({
    back,
    confirm: { heading: 'Sign out everywhere?', message: 'Every session, grant and token of this user is revoked at once, on every device.', button: 'Sign out everywhere', subject: email },
    run: (ctx) => users.revokeAll(ctx.params.id!, actorOf(ctx)).then(() => undefined),
    notice: 'signed-out',
  }));

  router.post('/users/:id/disable', kit.action({
    back,
    confirm: { heading: 'Disable this account?', message: 'The user can no longer sign in, and every session, grant and token is revoked at once.', button: 'Disable account', subject: email },
    run: (ctx) => users.setDisabled(ctx.params.id!, true, actorOf(ctx)).then(() => undefined),
    notice: 'disabled',
  }));

  router.post('/users/:id/enable', kit.action({
    back,
    run: (ctx) => users.setDisabled(ctx.params.id!, false, actorOf(ctx)).then(() => undefined),
    notice: 'enabled',
  }));

  router.post('/users/:id/password', kit.action({
    back,
    run: (ctx) => users.setPassword(ctx.params.id!, formBody(ctx).password ?? '', actorOf(ctx)).then(() => undefined),
    notice: 'password-set',
  }));

  router.post('/users/:id/roles', kit.action({
    back,
    run: async (ctx) => {
      const user = await users.get(ctx.params.id!);
      const others = user.roles.filter((r) => r !== ADMIN_ROLE);
      await users.update(user.id, { roles: formBody(ctx).admin === 'on' ? [...others, ADMIN_ROLE] : others }, actorOf(ctx));
    },
    notice: 'roles-set',
  }));

  router.post('/users/:id/delete', kit.action({
    back,
    confirm: { heading: 'Delete this user?', message: 'The account is deleted and every session, grant and token of it revoked. This cannot be undone.', button: 'Delete user', subject: email },
    run: (ctx) => users.remove(ctx.params.id!, actorOf(ctx)).then(() => undefined),
    notice: 'user-deleted',
    then: '/admin/users',
  }));
}
