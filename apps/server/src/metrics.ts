import type { FastifyInstance } from 'fastify';
import type { SlabCacheStats } from '@conifer/storage';
import type { PageCacheStats, ResidentStats } from '@conifer/engine';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one server: Node's default process metrics plus a request counter and a
 * latency histogram labelled by procedure (tRPC path or HTTP route) and status code. Each server
 * has its own registry, so several servers in one process (tests) do not collide.
 */
export interface ServerMetrics {
  registry: Registry;
  /** Records one finished request. */
  observe(procedure: string, status: number, seconds: number): void;
}

/** What a node's memory budget covers, and what it holds now. */
export interface NodeMemory {
  /** `CONIFER_MEMORY_BUDGET` as it applies. */
  budgetBytes: number;
  /** The process's own memory, set aside from the budget (memory-share.ts: read at start, lowered by quiet readings). */
  processBytes: number;
  /** The writer role's open namespaces. */
  writer?: ResidentStats | undefined;
  /** The query role's replicas. */
  query?: ResidentStats | undefined;
  /** The slab cache's memory tier (on a cloud bucket). */
  slabCacheBytes?: number | undefined;
  /** The page cache of slabs read by range. */
  pages: PageCacheStats;
}

export interface MetricsOptions {
  slabCache?: (() => SlabCacheStats) | undefined;
  slabBytesQueried?: (() => number) | undefined;
  memory?: (() => NodeMemory) | undefined;
}

export function createMetrics(options: MetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (options.slabCache) registerSlabCacheMetrics(registry, options.slabCache);
  if (options.memory) registerMemoryMetrics(registry, options.memory);
  const slabBytesQueried = options.slabBytesQueried;
  if (slabBytesQueried) {
    new Gauge({
      name: 'conifer_replica_slab_bytes_queried',
      help: "Bytes of slabs this query node's queries have searched since start (held in memory by its replicas).",
      registers: [registry],
      collect() {
        this.set(slabBytesQueried());
      },
    });
  }
  const requests = new Counter({
    name: 'conifer_requests_total',
    help: 'HTTP requests by procedure (tRPC path or route) and status code.',
    labelNames: ['procedure', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'conifer_request_duration_seconds',
    help: 'HTTP request latency by procedure (tRPC path or route) and status code.',
    labelNames: ['procedure', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Each (procedure, status) pair's series, looked up once: prom-client otherwise hashes the label
  // object on every observation. Both label sets are bounded (route patterns, status codes).
  const series = new Map<string, { count: () => void; time: (seconds: number) => void }>();
  return {
    registry,
    observe(procedure, status, seconds) {
      const key = `${status} ${procedure}`;
      let pair = series.get(key);
      if (pair === undefined) {
        const labels = { procedure, status: String(status) };
        const counter = requests.labels(labels);
        const histogram = latency.labels(labels);
        pair = { count: () => counter.inc(), time: (s) => histogram.observe(s) };
        series.set(key, pair);
      }
      pair.count();
      pair.time(seconds);
    },
  };
}

/**
 * Counts every response and serves `GET /metrics`. Requests to the tRPC route are labelled with
 * their procedure; only names in `procedures` become label values (a client must not be able to
 * mint time series), anything else under `trpcRoute` is `unknown`. Other routes use their pattern.
 */
export function installMetrics(
  app: FastifyInstance,
  options: MetricsOptions & {
    trpcRoute: string;
    procedures: ReadonlySet<string>;
  },
): ServerMetrics {
  const metrics = createMetrics(options);
  // A callback hook, not an async one: no promise per response.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    let procedure: string;
    if (route === options.trpcRoute) {
      const name = (request.params as { path?: string }).path ?? '';
      procedure = options.procedures.has(name) ? name : 'unknown';
    } else {
      procedure = route ?? 'unmatched';
    }
    metrics.observe(procedure, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return metrics;
}

/**
 * The slab cache's counters (read when /metrics is scraped): hits by tier, misses, bytes served by
 * source, and what each tier holds. Cumulative counts are exposed as gauges set at collection time.
 */
function registerSlabCacheMetrics(registry: Registry, stats: () => SlabCacheStats): void {
  new Gauge({
    name: 'conifer_slab_cache_hits',
    help: 'Slab cache hits since start, by tier.',
    labelNames: ['tier'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.set({ tier: 'memory' }, s.memoryHits);
      this.set({ tier: 'disk' }, s.diskHits);
    },
  });
  new Gauge({
    name: 'conifer_slab_cache_misses',
    help: 'Slab cache misses (fetches from the object store) since start.',
    registers: [registry],
    collect() {
      this.set(stats().misses);
    },
  });
  new Gauge({
    name: 'conifer_slab_cache_served_bytes',
    help: 'Bytes of slabs served since start, by source.',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.set({ source: 'memory' }, s.bytesFromMemory);
      this.set({ source: 'disk' }, s.bytesFromDisk);
      this.set({ source: 'store' }, s.bytesFromStore);
    },
  });
  new Gauge({
    name: 'conifer_slab_cache_resident_bytes',
    help: 'Bytes the slab cache holds now, by tier.',
    labelNames: ['tier'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.set({ tier: 'memory' }, s.memoryBytes);
      this.set({ tier: 'disk' }, s.diskBytes);
    },
  });
}

/** The memory budget and what it holds (read when /metrics is scraped), by kind and by role. */
function registerMemoryMetrics(registry: Registry, memory: () => NodeMemory): void {
  const roles = (m: NodeMemory) =>
    [
      ['writer', m.writer],
      ['query', m.query],
    ].filter((r): r is [string, ResidentStats] => r[1] !== undefined);
  new Gauge({
    name: 'conifer_memory_budget_bytes',
    help: 'The memory budget (CONIFER_MEMORY_BUDGET) of the process: its own memory at start, open namespaces, the slab cache and the page cache.',
    registers: [registry],
    collect() {
      this.set(memory().budgetBytes);
    },
  });
  new Gauge({
    name: 'conifer_memory_used_bytes',
    help: "Memory the budget covers, held now: the process's own memory at start (process), memtables, slabs, the fixed cost of open namespaces (writer) or replicas (query) and the working memory of compactions running here, the slab cache and the page cache of slabs read by range.",
    labelNames: ['kind', 'role'] as const,
    registers: [registry],
    collect() {
      const m = memory();
      for (const [role, stats] of roles(m)) {
        this.set({ kind: 'memtables', role }, stats.memory.memtables);
        this.set({ kind: 'slabs', role }, stats.memory.slabs);
        this.set({ kind: 'fixed', role }, stats.memory.fixed);
        this.set({ kind: 'compactions', role }, stats.memory.compactions);
      }
      this.set({ kind: 'process', role: 'node' }, m.processBytes);
      if (m.slabCacheBytes !== undefined) this.set({ kind: 'slab_cache', role: 'node' }, m.slabCacheBytes);
      this.set({ kind: 'slab_pages', role: 'node' }, m.pages.bytes);
    },
  });
  new Gauge({
    name: 'conifer_memory_released_bytes',
    help: 'Memory namespaces (writer) or replicas (query) let go of — slabs a compaction replaced or a close dropped, vectors shed — that the garbage collector has not freed yet; promotions leave it room.',
    labelNames: ['role'] as const,
    registers: [registry],
    collect() {
      for (const [role, stats] of roles(memory())) this.set({ role }, stats.released);
    },
  });
  new Gauge({
    name: 'conifer_slab_vectors_moves',
    help: 'Slabs read by range whose vectors the memory budget read into memory (promoted: scanned in place) or dropped again (shed: read by range), since start.',
    labelNames: ['role', 'move'] as const,
    registers: [registry],
    collect() {
      for (const [role, stats] of roles(memory())) {
        this.set({ role, move: 'promoted' }, stats.promoted);
        this.set({ role, move: 'shed' }, stats.shed);
      }
    },
  });
  new Gauge({
    name: 'conifer_slab_pages_read_bytes',
    help: 'Bytes of slab pages read from the object store by ranged reads (queries of slabs whose vectors are not in memory), since start.',
    registers: [registry],
    collect() {
      this.set(memory().pages.bytesRead);
    },
  });
  new Gauge({
    name: 'conifer_slab_pages_total',
    help: 'Lookups of the slab page cache since start, by outcome; refetch: pages read again because their first copy failed its checksum.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const { hits, misses, refetches } = memory().pages;
      this.set({ outcome: 'hit' }, hits);
      this.set({ outcome: 'miss' }, misses);
      this.set({ outcome: 'refetch' }, refetches);
    },
  });
  new Gauge({
    name: 'conifer_namespaces_open',
    help: 'Namespaces open on this node: in the writer, or as replicas on a query node.',
    labelNames: ['role'] as const,
    registers: [registry],
    collect() {
      for (const [role, stats] of roles(memory())) this.set({ role }, stats.open);
    },
  });
  new Gauge({
    name: 'conifer_namespaces_closed',
    help: 'Namespaces closed since start to free memory: unused for CONIFER_NAMESPACE_IDLE_MS (idle), or least recently used while over the budget (budget).',
    labelNames: ['role', 'reason'] as const,
    registers: [registry],
    collect() {
      for (const [role, stats] of roles(memory())) {
        this.set({ role, reason: 'idle' }, stats.closedIdle);
        this.set({ role, reason: 'budget' }, stats.closedForBudget);
      }
    },
  });
}
