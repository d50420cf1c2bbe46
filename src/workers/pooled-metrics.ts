import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from '../admin/admin-server.js';
import type { FailoverEpisode } from '../observe/failover-timeline.js';
import type { TopologyMetrics } from '../observe/topology-metrics.js';
import type { MetricsJson } from './messages.js';

/**
 * /metrics of a router with workers: the primary process's own registry (topology, failover
 * phases, the pool, its process) and every worker's (the proxy's counters and gauges, its
 * process), asked at scrape time and merged by prom-client's AggregatorRegistry: each series
 * summed across processes unless its metric says otherwise (`aggregator`: the topology's are
 * `first`, having one source; the classifier hit ratio an `average`; node's event-loop lag
 * min/max/mean, its start time omitted).
 */
export class PooledMetrics implements MetricsSource {
  constructor(
    private readonly registry: Registry,
    private readonly topology: TopologyMetrics,
    private readonly workers: { metrics(): Promise<MetricsJson[]> },
  ) {}

  async text(): Promise<string> {
    const [own, workers] = await Promise.all([this.registry.getMetricsAsJSON(), this.workers.metrics()]);
    return AggregatorRegistry.aggregate([own, ...workers]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  failoverEpisodes(): Record<string, FailoverEpisode | undefined> {
    return this.topology.failoverEpisodes();
  }
}
