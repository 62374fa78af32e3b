import type { Actor, Audit } from '../audit/audit.js';
import type { Api, Apis } from '../clients/apis.js';
import type { ClientMetadata, ClientRecord, Clients } from '../clients/clients.js';
import { conflict, notFound } from '../errors.js';
import type { RevocationSummary, Revoker } from '../revocation/revoker.js';

/** The admin console's own OIDC client (registered at start; see console/oidc-client.ts). */
export const CONSOLE_CLIENT_ID = 'tessera-console';

export interface ClientView {
  readonly client_id: string;
  readonly metadata: ClientMetadata;
  readonly hasSecret: boolean;
  readonly disabled: boolean;
  readonly createdAt: Date;
}

const view = (c: ClientRecord): ClientView => ({ client_id: c.clientId, metadata: c.metadata, hasSecret: c.hasSecret, disabled: c.disabled, createdAt: c.createdAt });

/** Clients and APIs for the admin API, console and CLI: every change audited with its actor. */
export interface ClientAdmin {
  list(): Promise<ClientView[]>;
  get(clientId: string): Promise<ClientView>;
  create(metadata: unknown, actor: Actor): Promise<{ client: ClientView; clientSecret: string | undefined }>;
  update(clientId: string, patch: unknown, actor: Actor): Promise<{ client: ClientView; clientSecret: string | undefined }>;
  rotateSecret(clientId: string, actor: Actor): Promise<string>;
  setDisabled(clientId: string, disabled: boolean, actor: Actor): Promise<{ client: ClientView; revoked?: RevocationSummary }>;
  remove(clientId: string, actor: Actor): Promise<{ revoked: RevocationSummary }>;
}

export interface ApiAdmin {
  list(): Promise<Api[]>;
  get(identifier: string): Promise<Api>;
  create(input: unknown, actor: Actor): Promise<Api>;
  update(identifier: string, input: unknown, actor: Actor): Promise<Api>;
  remove(identifier: string, actor: Actor): Promise<void>;
}

export function createClientAdmin(deps: { clients: Clients; revoker: Revoker; audit: Audit }): ClientAdmin {
  const { clients, revoker, audit } = deps;
  const target = (id: string) => ({ type: 'client', id });

  async function mustFind(clientId: string): Promise<ClientRecord> {
    const found = await clients.find(clientId);
    if (!found) throw notFound('client');
    return found;
  }

  function guardConsole(clientId: string, what: string): void {
    if (clientId === CONSOLE_CLIENT_ID) throw conflict(`the admin console's own client cannot be ${what}`, 'client_id');
  }

  return {
    list: async () => (await clients.list()).map(view),
    get: async (clientId) => view(await mustFind(clientId)),

    async create(metadata, actor) {
      const { client, clientSecret } = await clients.create(metadata);
      await audit.record({ action: 'client.create', actor, target: target(client.client_id), details: { client_name: client.client_name ?? null } });
      return { client: view(await mustFind(client.client_id)), clientSecret };
    },

    async update(clientId, patch, actor) {
      guardConsole(clientId, 'changed');
      await mustFind(clientId);
      const { clientSecret } = await clients.update(clientId, patch);
      const fields = typeof patch === 'object' && patch !== null ? Object.keys(patch) : [];
      await audit.record({ action: 'client.update', actor, target: target(clientId), details: { fields, secretIssued: clientSecret !== undefined } });
      return { client: view(await mustFind(clientId)), clientSecret };
    },

    async rotateSecret(clientId, actor) {
      guardConsole(clientId, 'given a new secret');
      const secret = await clients.rotateSecret(clientId);
      await audit.record({ action: 'client.rotate_secret', actor, target: target(clientId) });
      return secret;
    },

    async setDisabled(clientId, disabled, actor) {
      guardConsole(clientId, 'disabled');
      const updated = await clients.setDisabled(clientId, disabled);
      if (!disabled) {
        await audit.record({ action: 'client.enable', actor, target: target(clientId) });
        return { client: view(updated) };
      }
      // Disabled clients' tokens already fail the liveness rule; revoking them means enabling
      // the client again does not bring them back.
      const revoked = await revoker.revokeClient(clientId, { action: 'client.disable', actor, initiator: 'admin', target: target(clientId), reason: 'client disabled' });
      return { client: view(updated), revoked };
    },

    async remove(clientId, actor) {
      guardConsole(clientId, 'deleted');
      await mustFind(clientId);
      const revoked = await revoker.revokeClient(clientId, { action: 'client.delete', actor, initiator: 'admin', target: target(clientId), reason: 'client deleted' });
      await clients.remove(clientId);
      return { revoked };
    },
  };
}

export function createApiAdmin(deps: { apis: Apis; audit: Audit }): ApiAdmin {
  const { apis, audit } = deps;
  const target = (id: string) => ({ type: 'api', id });
  async function mustFind(identifier: string): Promise<Api> {
    const found = await apis.find(identifier);
    if (!found) throw notFound('API');
    return found;
  }
  return {
    list: () => apis.list(),
    get: mustFind,
    async create(input, actor) {
      const api = await apis.create(input);
      await audit.record({ action: 'api.create', actor, target: target(api.identifier), details: { scopes: api.scopes, accessTokenFormat: api.accessTokenFormat } });
      return api;
    },
    async update(identifier, input, actor) {
      const api = await apis.update(identifier, input);
      await audit.record({ action: 'api.update', actor, target: target(identifier), details: { fields: typeof input === 'object' && input !== null ? Object.keys(input) : [] } });
      return api;
    },
    async remove(identifier, actor) {
      await mustFind(identifier);
      await apis.remove(identifier);
      await audit.record({ action: 'api.delete', actor, target: target(identifier) });
    },
  };
}
