import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  return {
    registry,
    observe(procedure, status, seconds) {
      const labels = { procedure, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
  };
}

/**
 * Counts every response and serves `GET /metrics`. Requests to the tRPC route are labelled with
 * their procedure; only names in `procedures` become label values (a client must not be able to
 * mint time series), anything else under `trpcRoute` is `unknown`. Other routes use their pattern.
 */
export function installMetrics(app: FastifyInstance, options: { trpcRoute: string; procedures: ReadonlySet<string> }): ServerMetrics {
  const metrics = createMetrics();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    let procedure: string;
    if (route === options.trpcRoute) {
      const name = (request.params as { path?: string }).path ?? '';
      procedure = options.procedures.has(name) ? name : 'unknown';
    } else {
      procedure = route ?? 'unmatched';
    }
    metrics.observe(procedure, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return metrics;
}
