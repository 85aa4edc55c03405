import type { FastifyInstance } from 'fastify';

/** Longest wait for requests in flight at shutdown before their connections are cut. */
export const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Graceful HTTP shutdown. Fastify's `close()` stops accepting connections and waits for every
 * open one to end, but a keep-alive connection whose client keeps it open would hold it up to the
 * 72 s keep-alive timeout. While draining, each response therefore carries `Connection: close`
 * and its connection is reaped as soon as the response is out; after `DRAIN_TIMEOUT_MS` whatever
 * is left is cut.
 */
export interface Drain {
  /** Stops accepting, waits for the requests in flight, then closes the server. */
  close(): Promise<void>;
}

export function installDrain(app: FastifyInstance): Drain {
  let draining = false;
  // Callback hooks, not async ones: no promise per response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (_request, _reply, done) => {
    if (draining) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
  return {
    async close() {
      draining = true;
      const force = setTimeout(() => app.server.closeAllConnections(), DRAIN_TIMEOUT_MS);
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
}
