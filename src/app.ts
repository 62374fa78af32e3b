import Router from '@koa/router';
import type { JWK } from 'jose';
import Koa from 'koa';
import compose from 'koa-compose';
import Provider from 'oidc-provider';

import { createAccounts, type Accounts } from './accounts/accounts.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { createAdminAuthorizer } from './admin/api/authorize.js';
import { createAdminApiRouter } from './admin/api/router.js';
import { adminRoutes } from './admin/api/routes.js';
import { CONSOLE_CLIENT_ID, createApiAdmin, createClientAdmin, type ApiAdmin, type ClientAdmin } from './admin/clients.js';
import { createConsoleOidcClient, registerConsoleClient } from './admin/console/oidc-client.js';
import { CSRF_SCOPE as CONSOLE_CSRF_SCOPE } from './admin/console/page-kit.js';
import { createConsoleRouter } from './admin/console/routes.js';
import { createConsoleSessions } from './admin/console/sessions.js';
import { createDashboard, type Dashboard } from './admin/dashboard.js';
import { bootstrapAdmin } from './admin/bootstrap.js';
import { createUserAdmin, type UserAdmin } from './admin/users.js';
import { createAudit, type Audit } from './audit/audit.js';
import { createTokenStats, type TokenStats } from './audit/token-stats.js';
import { createApis, type Apis } from './clients/apis.js';
import { createClientSecretHasher, type ClientSecretHasher } from './clients/client-secrets.js';
import { createClients, type Clients } from './clients/clients.js';
import { createRegistryCache, type RegistryCache } from './clients/registry-cache.js';
import type { Config } from './config.js';
import { createDb, databaseKind, makeCommitsDurable, type Db } from './db/client.js';
import { createFastReads, type FastReads } from './db/fast-reads.js';
import { createSweeper, type Sweeper } from './db/sweeper.js';
import { createErrorHandler } from './http/error-handler.js';
import { createHealthRouter, HEALTH_PATHS } from './http/health.js';
import { createInFlight } from './http/in-flight.js';
import { createPagesRouter, notFound, PAGE_PATHS } from './http/pages.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { atPaths, underPath } from './http/under-path.js';
import { createViews } from './http/views.js';
import { createCsrf } from './interaction/csrf.js';
import { createInteractionRouter } from './interaction/routes.js';
import type { Logger } from './log.js';
import { createAdapterClass } from './oidc/adapter.js';
import { createClientLoader } from './oidc/client-loader.js';
import { createConfiguration, ROUTES } from './oidc/configuration.js';
import { createFindAccount } from './oidc/find-account.js';
import { createJwtRecorder } from './oidc/jwt-access-tokens.js';
import { loadServerSecrets } from './oidc/keys.js';
import { createProviderHost, type ProviderHost } from './oidc/provider-host.js';
import { createResourceServerLookup } from './oidc/resource-indicators.js';
import { useTimeOrderedIds } from './oidc/token-ids.js';
import { silenceBackchannelLogout } from './oidc/silence-backchannel.js';
import { createBackchannelWorker, type BackchannelWorker } from './backchannel/backchannel-worker.js';
import { checkCallbackUrl } from './delivery/outbound.js';
import { createPushWorker, type PushWorker } from './ssf/push-worker.js';
import { assetsDir, viewsDir } from './paths.js';
import { formBody } from './protocol/form-body.js';
import { createIntrospectionEndpoint } from './protocol/introspection.js';
import { createRevocationEndpoint } from './protocol/revocation.js';
import { createLogoutRevocation } from './revocation/logout-revocation.js';
import { createProviderRevocations } from './revocation/provider-revocations.js';
import { createRevocationLog, type RevocationLog } from './revocation/revocation-log.js';
import { createRevoker, type Revoker } from './revocation/revoker.js';
import { createJwtVerifier } from './revocation/jwt-verifier.js';
import { createTokenLookup } from './revocation/token-lookup.js';
import { createTokenInspector, type TokenInspector } from './revocation/token-status.js';
import { pruneRevocationLog } from './revocation/prune-log.js';
import { createPoller } from './ssf/poll.js';
import { createReceiverAuth } from './ssf/receiver-auth.js';
import { createSsfRouter, ssfMetadata, SSF_METADATA_PATH } from './ssf/routes.js';
import { loadSetKey } from './ssf/set-key.js';
import { createSetSigner } from './ssf/sets.js';
import { createStreams } from './ssf/streams.js';
import { createWakeups } from './ssf/wake-ups.js';

/** The services both the server and the CLI use, wired on one database. */
export interface Services {
  readonly db: Db;
  readonly reads: FastReads;
  readonly registry: RegistryCache;
  readonly accounts: Accounts;
  readonly clients: Clients;
  readonly apis: Apis;
  readonly revoker: Revoker;
  readonly revocationLog: RevocationLog;
  readonly clientSecrets: ClientSecretHasher;
  readonly audit: Audit;
  readonly stats: TokenStats;
  readonly userAdmin: UserAdmin;
  readonly clientAdmin: ClientAdmin;
  readonly apiAdmin: ApiAdmin;
  readonly dashboard: Dashboard;
}

export interface App {
  readonly koa: Koa;
  readonly providerHost: ProviderHost;
  readonly services: Services;
  readonly inspector: TokenInspector;
  readonly sweeper: Sweeper;
  /** SSF push delivery (RFC 8935); started by src/main.ts, stopped by close(). */
  readonly pushWorker: PushWorker;
  /** OIDC Back-Channel Logout sender; started by src/main.ts, stopped by close(). */
  readonly backchannelWorker: BackchannelWorker;
  /** Tells the app its listening port (the console's server-to-itself requests use it). */
  listening(port: number): void;
  /** The server stops accepting: held requests (SSF long polls) answer at once. */
  stopping(): void;
  close(): Promise<void>;
}

const REGISTRY_REVISION_QUERY = 'SELECT "revision" FROM "RegistryRevision" WHERE "id" = 1';

/**
 * Composition root for the services. `validateClient` checks RFC 7591 metadata the way the
 * issuer will; the CLI passes a provider-backed validator too.
 */
export async function createServices(config: Config, validateClient: (metadata: Record<string, unknown>) => Promise<void>, log?: Logger): Promise<Services> {
  const db = createDb(config.databaseUrl, config.database);
  await makeCommitsDurable(db, config.databaseUrl);
  const reads = createFastReads(config.databaseUrl, databaseKind(config.databaseUrl), config.database);
  const [clientSecretKey] = await loadServerSecrets(db, 'client-secret');
  const passwords = createPasswordHasher(config.argon2);
  const accounts = createAccounts(db, passwords, reads);
  const clientSecrets = createClientSecretHasher(clientSecretKey!);
  const reportError = (event: string) => (err: unknown) => log?.error({ event, err: { message: (err as Error).message } }, `${event} failed`);
  const registry = createRegistryCache({
    read: reads.shared,
    revision: async () => {
      const row = await reads.one(REGISTRY_REVISION_QUERY, []);
      return row === undefined ? undefined : Number(row.revision);
    },
    intervalMs: config.clientCacheMs,
    onError: reportError('registry_cache.refresh'),
  });
  const clients = createClients(db, clientSecrets, validateClient, registry, { allowPrivateCallbacks: config.allowPrivateCallbacks });
  const apis = createApis(db, registry);
  const audit = createAudit(db, reportError('audit.write'));
  const stats = createTokenStats(db, { flushIntervalMs: 5000, onError: reportError('token_stats.flush') });
  const revocationLog = createRevocationLog({
    kind: databaseKind(config.databaseUrl),
    // The admin API's tokens live 300 s (src/oidc/resource-indicators.ts).
    longestTokenLifetimeSeconds: async () => Math.max(config.ttl.accessTokenSeconds, config.ttl.clientCredentialsSeconds, 300, ...(await apis.list()).map((api) => api.accessTokenTTL)),
  });
  const revoker = createRevoker(db, { audit, stats, log: revocationLog });
  return {
    db,
    reads,
    registry,
    accounts,
    clients,
    apis,
    revoker,
    revocationLog,
    clientSecrets,
    audit,
    stats,
    userAdmin: createUserAdmin({ db, accounts, clients, revoker, audit }),
    clientAdmin: createClientAdmin({ clients, revoker, audit }),
    apiAdmin: createApiAdmin({ apis, audit }),
    dashboard: createDashboard({ db, stats }),
  };
}

/** Composition root: builds every part of the issuer on the configured database. */
export async function createApp(config: Config, deps: { log: Logger }): Promise<App> {
  const { log } = deps;
  let host: ProviderHost | undefined;
  const services = await createServices(config, async (metadata) => {
    await (host!.current().Client as unknown as { validate(m: unknown): Promise<void> }).validate(metadata);
  }, log);
  const { db, accounts, clients, apis, revoker, audit } = services;
  const views = createViews(viewsDir);
  const cookieKeys = await loadServerSecrets(db, 'cookie', config.cookieKeys);
  const [csrfKey] = await loadServerSecrets(db, 'csrf');
  const providerRevocations = createProviderRevocations({ revoker, currentContext: () => Provider.ctx as object | undefined });
  const adapter = createAdapterClass(db, createClientLoader(services.clients, services.clientSecrets), {
    requestInfo: () => {
      const ctx = Provider.ctx as unknown as { ip: string; get(name: string): string } | undefined;
      return ctx ? { userAgent: ctx.get('user-agent') || null, ip: ctx.ip || null } : undefined;
    },
    onIssued: () => services.stats.issued(),
    takeOverGrantRevocation: (grantId) => providerRevocations.takeOver(grantId),
  }, services.reads);

  const buildProvider = (jwks: JWK[]): Provider => {
    const provider = new Provider(config.issuer, createConfiguration({
      config,
      adapter,
      jwks,
      cookieKeys,
      findAccount: createFindAccount(accounts),
      resourceServer: createResourceServerLookup(apis, config.signingAlg, config.issuer),
      recordJwt: createJwtRecorder(db, () => services.stats.issued(), services.reads) as never,
      views,
      accountEmail: async (id) => (await accounts.findById(id))?.email,
    }));
    provider.proxy = config.trustProxy;
    useTimeOrderedIds(provider);
    silenceBackchannelLogout(provider);
    provider.on('server_error', (_ctx, err: Error) => log.error({ event: 'oidc.server_error', err: { name: err.name, message: err.message, stack: err.stack } }, 'oidc-provider error'));
    // Grants oidc-provider revokes (replay detection) are revoked, logged and audited by the
    // revoker through the adapter (src/revocation/provider-revocations.ts).
    provider.on('grant.revoked', (_ctx, grantId: string) => log.info({ event: 'grant.revoked', grantId }, 'grant revoked'));
    return provider;
  };
  host = await createProviderHost({ db, alg: config.signingAlg, overlapSeconds: config.keys.overlapSeconds, build: buildProvider, log });
  const provider = (): Provider => host!.current();

  const inspector = createTokenInspector({
    lookup: createTokenLookup(services.reads, databaseKind(config.databaseUrl)),
    issuer: config.issuer,
    jwt: createJwtVerifier({ issuer: config.issuer, publicJwks: () => host!.publicJwks() }),
  });

  const protocol = new Router();
  const form = formBody(64 * 1024);
  protocol.post(ROUTES.introspection, form, createIntrospectionEndpoint({ clients, inspector }));
  protocol.post(ROUTES.revocation, form, createRevocationEndpoint({ clients, inspector, revoker }));

  const koa = new Koa({ proxy: config.trustProxy, keys: cookieKeys });
  koa.silent = true; // errors are logged by the error handler, without request data
  const inFlight = createInFlight();
  koa.use(inFlight.middleware);
  koa.use(requestLog(log));
  koa.use(securityHeaders());
  koa.use(createErrorHandler({ log, views }));
  koa.use(notFound({ views }));
  // Tessera's few routes of its own are matched only on their exact paths (the token endpoint
  // and the rest of oidc-provider's routes pass them by at the cost of one set lookup each).
  koa.use(atPaths(HEALTH_PATHS, createHealthRouter({ checkDatabase: async () => void (await db.$queryRaw`SELECT 1`) }).routes()));
  koa.use(atPaths(PAGE_PATHS, createPagesRouter({ views, assetsDir, issuer: config.issuer }).routes()));
  koa.use(atPaths([ROUTES.introspection, ROUTES.revocation], compose([protocol.routes(), protocol.allowedMethods()])));
  const secureCookies = config.issuer.startsWith('https:');
  const csrf = createCsrf(csrfKey!, { secureCookies });
  koa.use(underPath('/interaction', createInteractionRouter({ provider, accounts, views, csrf, log, audit, firstPartyClients: new Set([CONSOLE_CLIENT_ID]) }).routes()));

  // ---- admin API and console ----
  const consoleSecret = await registerConsoleClient(db, config.issuer, services.clientSecrets);
  await bootstrapAdmin({ accounts, audit, log, bootstrap: config.admin.bootstrap });
  const consoleSessions = createConsoleSessions({ db, accounts, idleSeconds: config.admin.consoleSessionSeconds });
  const listenHost = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const localUrl = (port: number) => config.admin.internalUrl ?? `http://${listenHost}:${port}`;
  let internalUrl = localUrl(config.port);
  const consoleOidc = createConsoleOidcClient({ issuer: config.issuer, secret: consoleSecret, signingAlg: config.signingAlg, internalUrl: () => internalUrl });
  const routes = adminRoutes({ users: services.userAdmin, clients: services.clientAdmin, apis: services.apiAdmin, audit, dashboard: services.dashboard });
  koa.use(underPath('/admin/api', createAdminApiRouter({
    routes,
    issuer: config.issuer,
    audit,
    log,
    ratePerMinute: config.admin.rateLimitPerMinute,
    authorize: createAdminAuthorizer({
      issuer: config.issuer,
      inspector,
      accounts,
      consoleSessions,
      // The console's own CSRF token: the API accepts the console session with it.
      csrfValid: (ctx, presented) => csrf.verify(ctx, CONSOLE_CSRF_SCOPE, presented),
    }),
  }).routes()));
  koa.use(underPath('/admin', createConsoleRouter({
    services,
    views,
    csrf,
    consoleSessions,
    oidc: consoleOidc,
    inspector,
    secureCookies,
    log,
  }).routes()));

  // ---- the revocation feed: SSF transmitter (src/ssf) ----
  const kind = databaseKind(config.databaseUrl);
  const setSigner = createSetSigner({ issuer: config.issuer, key: await loadSetKey(db) });
  const wakeups = createWakeups({ db, kind, databaseUrl: config.databaseUrl, log: services.revocationLog, logger: log });
  const streams = createStreams(db, {
    kind,
    log: services.revocationLog,
    options: {
      issuer: config.issuer,
      inactivityTimeoutSeconds: config.ssf.inactivityTimeoutSeconds,
      maxStreamsPerReceiver: config.ssf.maxStreamsPerReceiver,
      checkPushEndpoint: (url) => checkCallbackUrl(url, { allowPrivate: config.allowPrivateCallbacks }),
    },
  });
  const shutdown = new AbortController();
  koa.use(atPaths([SSF_METADATA_PATH], (ctx: Koa.Context, next: Koa.Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    ctx.body = ssfMetadata(config.issuer);
  }));
  koa.use(underPath('/ssf', createSsfRouter({
    issuer: config.issuer,
    streams,
    signer: setSigner,
    authenticate: createReceiverAuth({ inspector, clients }),
    poll: createPoller({ db, streams, signer: setSigner, wakeups, longPollSeconds: config.ssf.longPollSeconds, logger: log }),
    ratePerMinute: config.ssf.rateLimitPerMinute,
    shutdown: shutdown.signal,
    log,
  }).routes()));

  koa.use(createLogoutRevocation({
    db,
    revoker,
    providerRevocations,
    accounts,
    audit,
    log,
    sessionCookieName: '_session',
    confirmPath: `${ROUTES.end_session}/confirm`,
    revokeOfflineGrants: config.logoutRevokesOfflineGrants,
  }));
  koa.use(host.middleware());

  const sweeper = createSweeper(db, {
    batchSize: config.sweep.batchSize,
    log,
    also: [(now) => pruneRevocationLog(db, { batchSize: config.sweep.batchSize, now }), (now) => streams.removeInactive(now)],
  });

  // ---- outbound deliveries, outside every revocation's transaction (src/delivery) ----
  const pushWorker = createPushWorker({ db, signer: setSigner, allowPrivate: config.allowPrivateCallbacks, log, wakeups });
  const backchannelWorker = createBackchannelWorker({
    db,
    clients,
    signingKey: () => host!.signingKey(),
    issuer: config.issuer,
    allowPrivate: config.allowPrivateCallbacks,
    log,
    wakeups,
  });

  return {
    koa,
    providerHost: host,
    services,
    inspector,
    sweeper,
    pushWorker,
    backchannelWorker,
    listening(port) {
      internalUrl = localUrl(port);
    },
    stopping() {
      shutdown.abort();
    },
    async close() {
      // Held long polls answer now; then requests whose client already hung up may still be
      // at work: let them finish first.
      shutdown.abort();
      if (!(await inFlight.drained(10_000))) log.warn({ event: 'shutdown.requests_abandoned', count: inFlight.count() }, 'requests still running at shutdown');
      host?.stop();
      await sweeper.stop();
      await Promise.all([pushWorker.stop(), backchannelWorker.stop()]);
      await wakeups.close();
      await services.stats.stop();
      services.registry.close();
      await services.reads.close();
      await db.$disconnect();
    },
  };
}
