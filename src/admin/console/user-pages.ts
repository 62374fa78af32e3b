import type Router from '@koa/router';

import type { Services } from '../../app.js';
import { AppError } from '../../errors.js';
import { ADMIN_ROLE } from '../users.js';
import { actorOf, done, formBody, noticeOf, type PageKit } from './page-kit.js';

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
    try {
      const user = await users.create({ email: body.email ?? '', password: body.password ?? '', roles: body.admin === 'on' ? [ADMIN_ROLE] : [] }, actorOf(ctx));
      done(ctx, userPath(user.id), 'user-created');
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      kit.render(ctx, 'user-new', { title: 'New user', nav: 'users', email: body.email ?? '', makeAdmin: body.admin === 'on', error: err.message, errorField: err.field }, err.status);
    }
  });

  router.get('/users/:id', async (ctx) => {
    await kit.attempt(ctx, '/admin/users', async () => {
      const [user, sessions, grants] = await Promise.all([users.get(ctx.params.id!), users.sessions(ctx.params.id!), users.grants(ctx.params.id!)]);
      kit.render(ctx, 'user', { title: user.email, nav: 'users', user, sessions, grants, isAdmin: user.roles.includes(ADMIN_ROLE), notice: noticeOf(ctx), path: userPath(user.id) });
    });
  });

  router.post('/users/:id/sessions/:sid/revoke', async (ctx) => {
    const back = userPath(ctx.params.id!);
    if (!kit.confirmed(ctx, { heading: 'Revoke this session?', message: 'The browser session ends, and every grant and token in it stops working at once.', button: 'Revoke session', back })) return;
    await kit.attempt(ctx, back, async () => {
      await users.revokeSession(ctx.params.id!, ctx.params.sid!, actorOf(ctx));
      done(ctx, back, 'session-revoked');
    });
  });

  router.post('/users/:id/grants/:gid/revoke', async (ctx) => {
    const back = userPath(ctx.params.id!);
    if (!kit.confirmed(ctx, { heading: 'Revoke this grant?', message: 'The application loses its access: every access and refresh token of this grant stops working at once.', button: 'Revoke grant', back })) return;
    await kit.attempt(ctx, back, async () => {
      await users.revokeGrant(ctx.params.id!, ctx.params.gid!, actorOf(ctx));
      done(ctx, back, 'grant-revoked');
    });
  });

  router.post('/users/:id/signout', async (ctx) => {
    const back = userPath(ctx.params.id!);
    if (!kit.confirmed(ctx, { heading: 'Sign out everywhere?', message: 'Every session, grant and token of this user is revoked at once, on every device.', button: 'Sign out everywhere', back })) return;
    await kit.attempt(ctx, back, async () => {
      await users.revokeAll(ctx.params.id!, actorOf(ctx));
      done(ctx, back, 'signed-out');
    });
  });

  router.post('/users/:id/disable', async (ctx) => {
    const back = userPath(ctx.params.id!);
    if (!kit.confirmed(ctx, { heading: 'Disable this account?', message: 'The user can no longer sign in, and every session, grant and token is revoked at once.', button: 'Disable account', back })) return;
    await kit.attempt(ctx, back, async () => {
      await users.setDisabled(ctx.params.id!, true, actorOf(ctx));
      done(ctx, back, 'disabled');
    });
  });

  router.post('/users/:id/enable', async (ctx) => {
    const back = userPath(ctx.params.id!);
    await kit.attempt(ctx, back, async () => {
      await users.setDisabled(ctx.params.id!, false, actorOf(ctx));
      done(ctx, back, 'enabled');
    });
  });

  router.post('/users/:id/password', async (ctx) => {
    const back = userPath(ctx.params.id!);
    await kit.attempt(ctx, back, async () => {
      await users.setPassword(ctx.params.id!, formBody(ctx).password ?? '', actorOf(ctx));
      done(ctx, back, 'password-set');
    });
  });

  router.post('/users/:id/roles', async (ctx) => {
    const back = userPath(ctx.params.id!);
    await kit.attempt(ctx, back, async () => {
      const user = await users.get(ctx.params.id!);
      const others = user.roles.filter((r) => r !== ADMIN_ROLE);
      await users.update(user.id, { roles: formBody(ctx).admin === 'on' ? [...others, ADMIN_ROLE] : others }, actorOf(ctx));
      done(ctx, back, 'roles-set');
    });
  });

  router.post('/users/:id/delete', async (ctx) => {
    const back = userPath(ctx.params.id!);
    if (!kit.confirmed(ctx, { heading: 'Delete this user?', message: 'The account is deleted and every session, grant and token of it revoked. This cannot be undone.', button: 'Delete user', back })) return;
    await kit.attempt(ctx, back, async () => {
      await users.remove(ctx.params.id!, actorOf(ctx));
      done(ctx, '/admin/users', 'user-deleted');
    });
  });
}
