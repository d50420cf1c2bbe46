import type { Logger } from 'pino';
import type { AuthConfig } from '../../../config/types.js';
import type { ClusterFeed } from '../../../topology/cluster-feed.js';
import type { Member } from '../../../topology/cluster-state.js';
import type { BackendConnector } from '../connector.js';
import { AuthQueryClient, AuthQueryError } from './auth-query-client.js';
import type { AuthQueryResult } from './auth-query.js';
import { SecretCache } from './secret-cache.js';
import { PasswordSessionSecret, TrustSessionSecret } from './session-secret.js';

const MAX_CACHED_USERS = 10_000;

/**
 * One cluster's auth_query: a connection of the router's own, as the auth role, to the
 * writable primary (or, while there is none, any running member: every member is a physical
 * copy, and the query only reads pg_authid), a short cache in front of it, reopened when it
 * breaks. Its failures name the auth role and never its password.
 */
export class SecretSource {
  private readonly cache: SecretCache;
  private client: AuthQueryClient | undefined;
  private opening: Promise<AuthQueryClient> | undefined;
  private closed = false;

  constructor(
    private readonly feed: ClusterFeed,
    private readonly connector: BackendConnector,
    private readonly config: AuthConfig,
    private readonly log: Logger,
  ) {
    this.cache = new SecretCache({ lookup: (user) => this.query(user), ttlMs: config.cacheTimeMs, maxEntries: MAX_CACHED_USERS });
  }

  /** The user's stored secret (the caller owns and wipes the copy it gets). */
  lookup(user: string): Promise<AuthQueryResult> {
    return this.cache.get(user);
  }

  close(): void {
    this.closed = true;
    this.client?.close();
    this.client = undefined;
    this.cache.clear();
  }

  private async query(user: string): Promise<AuthQueryResult> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connection();
      try {
        return await client.lookup(user);
      } catch (error) {
        if (!client.usable) this.drop(client);
        // The connection had gone while idle (its member shut down in a switchover, or
        // restarted): asked again once on a new one, since the lookup only reads. Otherwise
        // the first login after every failover would stay on one member, unable to move.
        if (attempt === 1 && error instanceof AuthQueryError && error.reason === 'closed' && !this.closed) continue;
        throw error;
      }
    }
  }

  private connection(): Promise<AuthQueryClient> {
    if (this.client?.usable === true) return Promise.resolve(this.client);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(): Promise<AuthQueryClient> {
    if (this.closed) throw new AuthQueryError('closed', 'the router is stopping');
    const member = this.target();
    const who = `auth_query as role "${this.config.user}"`;
    if (member === undefined) throw new AuthQueryError('closed', `${who}: no running member to ask in cluster ${this.feed.scope}`);
    const socket = await this.connector.connect({ host: member.host as string, port: member.port as number }, this.config.timeoutMs);
    try {
      const client = await AuthQueryClient.connect(socket, {
        authRole: this.config.user,
        secret: this.config.password === undefined ? new TrustSessionSecret() : new PasswordSessionSecret(this.config.password),
        database: this.config.database,
        schema: this.config.schema,
        timeoutMs: this.config.timeoutMs,
      });
      this.client = client;
      this.log.info({ member: member.name, role: this.config.user }, 'auth_query connection open');
      return client;
    } catch (error) {
      socket.destroy();
      this.log.warn({ member: member.name, role: this.config.user, err: error instanceof Error ? error.message : String(error) }, 'auth_query connection failed');
      throw error;
    }
  }

  /** The writable primary, else any running member with an address. */
  private target(): Member | undefined {
    const state = this.feed.current();
    if (state === undefined) return undefined;
    const usable = (m: Member): boolean => m.invalid === undefined && m.state === 'running' && m.host !== undefined && m.port !== undefined;
    return state.members.find((m) => m.name === state.writablePrimary && usable(m)) ?? state.members.find(usable);
  }

  private drop(client: AuthQueryClient): void {
    if (this.client === client) this.client = undefined;
    client.close();
  }
}
