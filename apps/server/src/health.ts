import type { FastifyInstance } from 'fastify';

/** How long one dependency may take to answer a health check. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** A probe resolves when its dependency answers and rejects (or times out) when it does not. */
export type Probe = () => Promise<unknown>;

/** The probe's answer, or a rejection after `ms` (the probe itself keeps running). */
export function withTimeout(probe: Probe, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([probe(), timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /healthz`: 200 `{ status: "ok" }` when every dependency answers, otherwise 503 with the
 * name of each failing check (never its error text, which may hold hosts or paths).
 */
export function registerHealth(app: FastifyInstance, probes: Record<string, Probe>): void {
  app.get('/healthz', async (request, reply) => {
    const names = Object.keys(probes);
    const results = await Promise.allSettled(names.map((name) => withTimeout(probes[name]!, HEALTH_TIMEOUT_MS)));
    const failing = names.filter((_, i) => results[i]!.status === 'rejected');
    if (failing.length === 0) return { status: 'ok' };
    results.forEach((r, i) => r.status === 'rejected' && request.log.warn({ err: r.reason, check: names[i] }, 'health check failed'));
    reply.code(503);
    return { status: 'unavailable', failing };
  });
}
