import type { Logger } from 'pino';
import type { AuthConfig } from '../../config/types.js';
import { FUNCTION_CATALOG_QUERY, functionCatalogFromRows, type AllowedFunctions, type FunctionCatalog } from '../../sql/function-catalog.js';
import type { ClusterFeed } from '../../topology/cluster-feed.js';
import type { BackendConnector } from '../backend/connector.js';
import { openRouterConnection } from './router-connection.js';

/**
 * The cluster's function catalog, read from the primary (any running member while there is
 * none: they are copies) at start-up and every `refreshMs`: which user functions are
 * volatile, so a split listener sends their callers to the primary. Until the first read,
 * every function call goes to the primary.
 */
export class CatalogSource {
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly feed: ClusterFeed,
    private readonly connector: BackendConnector,
    private readonly auth: AuthConfig,
    private readonly allowed: AllowedFunctions,
    private readonly refreshMs: number,
    private readonly onCatalog: (catalog: FunctionCatalog) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.read(), this.refreshMs);
    this.timer.unref();
    void this.read();
  }

  /** Reads now (start-up: as soon as the topology is known). */
  async read(): Promise<void> {
    if (this.reading) return;
    const state = this.feed.current();
    const member = state?.members.find((m) => m.name === state.writablePrimary) ?? state?.members.find((m) => m.state === 'running' && m.host !== undefined);
    if (member === undefined) return;
    this.reading = true;
    try {
      const link = await openRouterConnection(member, this.connector, this.auth, 'function catalog');
      try {
        const result = await link.query(FUNCTION_CATALOG_QUERY);
        if (result.error !== undefined) throw new Error(result.error.message ?? 'the catalog query failed');
        const rows = result.rows.map(([schema_name, function_name, volatile]) => ({ schema_name, function_name, volatile }));
        const catalog = functionCatalogFromRows(rows, this.allowed);
        this.onCatalog(catalog);
        this.log.debug({ member: member.name, functions: catalog.functionCount }, 'function catalog read');
      } finally {
        link.close();
      }
    } catch (error) {
      this.log.warn({ member: member.name, err: error instanceof Error ? error.message : String(error) }, 'function catalog could not be read; function calls go to the primary');
    } finally {
      this.reading = false;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
