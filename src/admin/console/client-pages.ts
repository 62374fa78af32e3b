import type Router from '@koa/router';

import type { Services } from '../../app.js';
import { invalidInput } from '../../errors.js';
import { CONSOLE_CLIENT_ID } from '../clients.js';
import { actorOf, done, formBody, noticeOf, type PageContext, type PageKit } from './page-kit.js';

function parseJson(text: string | undefined, field: string): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    throw invalidInput(field, 'must be valid JSON');
  }
}

/** Clients (RFC 7591 metadata as JSON) and APIs. Secrets appear once, on the page that made them. */
export function registerClientPages(router: Router, deps: { services: Services; kit: PageKit }): void {
  const { services, kit } = deps;
  const clients = services.clientAdmin;
  const apis = services.apiAdmin;
  const clientPath = (id: string) => `/admin/clients/${encodeURIComponent(id)}`;
  const apiPath = (id: string) => `/admin/apis/${encodeURIComponent(id)}`;

  // ---- clients ----
  router.get('/clients', async (ctx) => {
    kit.render(ctx, 'clients', { title: 'Clients', nav: 'clients', clients: await clients.list(), consoleClientId: CONSOLE_CLIENT_ID, notice: noticeOf(ctx) });
  });

  const EXAMPLE = JSON.stringify({ client_name: 'My app', redirect_uris: ['https://app.example.com/callback'], grant_types: ['authorization_code', 'refresh_token'] }, null, 2);
  router.get('/clients/new', (ctx) => kit.render(ctx, 'client-new', { title: 'New client', nav: 'clients', metadata: EXAMPLE }));

  router.post('/clients', async (ctx) => {
    const body = formBody(ctx);
    await kit.formAttempt(ctx, 'client-new', { title: 'New client', nav: 'clients', metadata: body.metadata ?? '' }, async () => {
      const { client, clientSecret } = await clients.create(parseJson(body.metadata, 'metadata'), actorOf(ctx));
      kit.render(ctx, 'client-secret', { title: 'Client created', nav: 'clients', client, clientSecret, created: true }, 201);
    });
  });

  router.get('/clients/:id', async (ctx) => {
    await kit.attempt(ctx, '/admin/clients', async () => {
      const client = await clients.get(ctx.params.id!);
      const { client_id: _id, ...metadata } = client.metadata;
      kit.render(ctx, 'client', { title: client.client_id, nav: 'clients', client, metadata: JSON.stringify(metadata, null, 2), isConsole: client.client_id === CONSOLE_CLIENT_ID, notice: noticeOf(ctx) });
    });
  });

  router.post('/clients/:id', async (ctx) => {
    const body = formBody(ctx);
    await kit.attempt(ctx, '/admin/clients', async () => {
      const client = await clients.get(ctx.params.id!);
      await kit.formAttempt(ctx, 'client', { title: client.client_id, nav: 'clients', client, metadata: body.metadata ?? '' }, async () => {
        const updated = await clients.update(client.client_id, parseJson(body.metadata, 'metadata'), actorOf(ctx));
        if (updated.clientSecret) {
          kit.render(ctx, 'client-secret', { title: 'Client saved', nav: 'clients', client: updated.client, clientSecret: updated.clientSecret });
        } else {
          done(ctx, clientPath(client.client_id), 'client-saved');
        }
      });
    });
  });

  const clientBack = (ctx: PageContext) => clientPath(ctx.params.id!);
  const clientName = async (ctx: PageContext) => {
    const client = await clients.get(ctx.params.id!);
    return `${String(client.metadata.client_name ?? client.client_id)} (client_id ${client.client_id})`;
  };

  router.post('/clients/:id/secret', async (ctx) => {
    const back = clientBack(ctx);
    await kit.attempt(ctx, back, async () => {
      const question = { heading: 'Issue a new secret?', message: 'The current secret stops working at once; the application needs the new one.', button: 'Issue new secret', back };
      if (!kit.confirmed(ctx, { ...question, subject: await clientName(ctx) })) return;
      const clientSecret = await clients.rotateSecret(ctx.params.id!, actorOf(ctx));
      kit.render(ctx, 'client-secret', { title: 'New secret', nav: 'clients', client: await clients.get(ctx.params.id!), clientSecret });
    });
  });

  router.post('/clients/:id/disable', kit.action({
    back: clientBack,
    confirm: { heading: 'Disable this client?', message: 'The application can no longer get tokens, and every grant and token it holds is revoked.', button: 'Disable client', subject: clientName },
    run: (ctx) => clients.setDisabled(ctx.params.id!, true, actorOf(ctx)).then(() => undefined),
    notice: 'client-disabled',
  }));

  router.post('/clients/:id/enable', kit.action({
    back: clientBack,
    run: (ctx) => clients.setDisabled(ctx.params.id!, false, actorOf(ctx)).then(() => undefined),
    notice: 'client-enabled',
  }));

  router.post('/clients/:id/delete', kit.action({
    back: clientBack,
    confirm: { heading: 'Delete this client?', message: 'The client is deleted and every grant and token it holds is revoked. This cannot be undone.', button: 'Delete client', subject: clientName },
    run: (ctx) => clients.remove(ctx.params.id!, actorOf(ctx)).then(() => undefined),
    notice: 'client-deleted',
    then: '/admin/clients',
  }));

  // ---- APIs ----
  router.get('/apis', async (ctx) => {
    kit.render(ctx, 'apis', { title: 'APIs', nav: 'apis', apis: await apis.list(), notice: noticeOf(ctx) });
  });

  const apiForm = (body: Record<string, string>) => ({
    name: body.name || undefined,
    scopes: (body.scopes ?? '').split(/[\s,]+/).filter(Boolean),
    accessTokenFormat: body.accessTokenFormat,
    accessTokenTTL: /^\d+$/.test(body.accessTokenTTL ?? '') ? Number(body.accessTokenTTL) : body.accessTokenTTL,
  });

  router.get('/apis/new', (ctx) => kit.render(ctx, 'api', { title: 'New API', nav: 'apis', api: { accessTokenFormat: 'jwt', accessTokenTTL: 300, scopes: [] }, isNew: true }));

  router.post('/apis', async (ctx) => {
    const body = formBody(ctx);
    const typed = { identifier: body.identifier, name: body.name, scopes: (body.scopes ?? '').split(/[\s,]+/).filter(Boolean), accessTokenFormat: body.accessTokenFormat, accessTokenTTL: body.accessTokenTTL };
    await kit.formAttempt(ctx, 'api', { title: 'New API', nav: 'apis', api: typed, isNew: true }, async () => {
      const api = await apis.create({ identifier: body.identifier, ...apiForm(body) }, actorOf(ctx));
      done(ctx, apiPath(api.identifier), 'api-saved');
    });
  });

  router.get('/apis/:id', async (ctx) => {
    await kit.attempt(ctx, '/admin/apis', async () => {
      kit.render(ctx, 'api', { title: ctx.params.id, nav: 'apis', api: await apis.get(ctx.params.id!), isNew: false, notice: noticeOf(ctx) });
    });
  });

  router.post('/apis/:id', async (ctx) => {
    const body = formBody(ctx);
    await kit.attempt(ctx, '/admin/apis', async () => {
      const api = await apis.get(ctx.params.id!);
      await kit.formAttempt(ctx, 'api', { title: api.identifier, nav: 'apis', api: { ...api, ...body, scopes: apiForm(body).scopes }, isNew: false }, async () => {
        await apis.update(api.identifier, apiForm(body), actorOf(ctx));
        done(ctx, apiPath(api.identifier), 'api-saved');
      });
    });
  });

  router.post('/apis/:id/delete', kit.action({
    back: (ctx) => apiPath(ctx.params.id!),
    confirm: {
      heading: 'Delete this API?',
      message: 'Clients can no longer request tokens for it. Tokens already issued expire as usual.',
      button: 'Delete API',
      subject: async (ctx) => (await apis.get(ctx.params.id!)).identifier,
    },
    run: (ctx) => apis.remove(ctx.params.id!, actorOf(ctx)),
    notice: 'api-deleted',
    then: '/admin/apis',
  }));
}
