import type { FastifyInstance } from 'fastify';

/**
 * Seconds a client should wait before retrying a 429 or 503. Rate limits are token buckets
 * refilled every second, and an unavailable namespace (a writer taking over, a replica catching
 * up) is back within about as long.
 */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Every 429 and 503 of the REST routes says when to try again (`Retry-After`, RFC 9110): the SDK
 * and Pinecone's clients back off by it instead of guessing. tRPC answers get theirs from the
 * adapter's `responseMeta` (http.ts), since the adapter writes past these hooks.
 */
export function installRetryAfter(app: FastifyInstance): void {
  // A callback hook, not an async one: no promise per response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if ((reply.statusCode === 429 || reply.statusCode === 503) && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    }
    done(null, payload);
  });
}
