import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LIMITS, UnavailableError } from '@conifer/core';
import { encodeError, INTERNAL_DATA_PATH, parseDataCall, serveDataCall, toJson, type LocalDataPlane } from '@conifer/cluster';

export interface InternalDeps {
  /** `CONIFER_CLUSTER_SECRET`: the only credential these routes accept. */
  secret: string;
  /** This node's writer engine (role `writer`). */
  writer?: LocalDataPlane | undefined;
  /** This node's query replicas (role `query`). */
  query?: LocalDataPlane | undefined;
}

/**
 * Routes other nodes call (docs/adr/0006-cluster-roles.md): a gateway's data call to the writer
 * that owns the namespace, or a read to a query node's replicas. They accept the cluster secret as `Authorization: Bearer <secret>`,
 * compared in constant time (as digests, so its length leaks nothing either), and nothing else: a
 * user's API key — which passed the gateway's checks for one project — never reaches them.
 */
export function registerInternalRoutes(app: FastifyInstance, deps: InternalDeps): void {
  const expected = digest(deps.secret);
  app.post(
    INTERNAL_DATA_PATH,
    // A vector in JSON can take several times its bytes in the request the gateway received.
    { bodyLimit: 4 * LIMITS.maxRequestBytes },
    async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (!timingSafeEqual(digest(given), expected)) {
        return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'node-internal endpoint: the cluster secret is required' } });
      }
      try {
        const call = parseDataCall(request.body);
        const role = call.role ?? 'writer';
        const data = role === 'query' ? deps.query : deps.writer;
        if (!data) throw new UnavailableError(`this node has no ${role} role`);
        const result = await serveDataCall(data, call);
        return reply.type('application/json').send(toJson({ result }));
      } catch (err) {
        const { status, body } = encodeError(err);
        if (status >= 500 && body.error.code === 'INTERNAL') request.log.error({ err }, 'internal data call failed');
        return reply.code(status).send(body);
      }
    },
  );
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
