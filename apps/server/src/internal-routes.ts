import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LIMITS, UnavailableError } from '@conifer/core';
import {
  decodeForwardedCall,
  decodeRecordFrame,
  decodeRecordsCall,
  encodeError,
  FORWARDED_CALL_HEADER,
  INTERNAL_DATA_PATH,
  INTERNAL_RECORDS_PATH,
  INTERNAL_UPSERT_PATH,
  parseDataCall,
  serveDataCall,
  toJson,
  type LocalDataPlane,
} from '@conifer/cluster';
import { applyForwardedUpsert } from './forwarded-upsert.ts';
import { upsertBodyBuffers } from './pinecone/body-buffers.ts';
import { acceptRawBodies, rawBodyOf } from './pinecone/plugin-support.ts';

/**
 * A record frame holds what a request of at most `LIMITS.maxRequestBytes` held, with each dense
 * value as 4 bytes where JSON may have spent 2 ("0,"): at most twice that, plus the header's JSON,
 * which can outgrow the client's by a few characters per number ("1e5" → "100000").
 */
const MAX_FRAME_BYTES = 4 * LIMITS.maxRequestBytes;

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
  /** Answers 401 unless the request carries the cluster secret; true when it does. */
  const authorized = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (timingSafeEqual(digest(given), expected)) return true;
    void reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'node-internal endpoint: the cluster secret is required' } });
    return false;
  };
  const answer = async (request: FastifyRequest, reply: FastifyReply, run: () => Promise<unknown>) => {
    try {
      return reply.type('application/json').send(toJson({ result: await run() }));
    } catch (err) {
      const { status, body } = encodeError(err);
      if (status >= 500 && body.error.code === 'INTERNAL') request.log.error({ err }, 'internal data call failed');
      return reply.code(status).send(body);
    }
  };
  const writer = (): LocalDataPlane => {
    if (!deps.writer) throw new UnavailableError('this node has no writer role');
    return deps.writer;
  };

  app.post(
    INTERNAL_DATA_PATH,
    // A vector in JSON can take several times its bytes in the request the gateway received.
    { bodyLimit: 4 * LIMITS.maxRequestBytes },
    async (request, reply) => {
      if (!authorized(request, reply)) return reply;
      return answer(request, reply, async () => {
        const call = parseDataCall(request.body);
        const role = call.role ?? 'writer';
        const data = role === 'query' ? deps.query : writer();
        if (!data) throw new UnavailableError(`this node has no ${role} role`);
        return serveDataCall(data, call);
      });
    },
  );

  // An upsert's body as the client sent it, forwarded by a gateway: parsed here, once.
  void app.register(async (scope) => {
    acceptRawBodies(scope, 'application/octet-stream');
    scope.post(INTERNAL_UPSERT_PATH, { bodyLimit: LIMITS.maxRequestBytes }, async (request, reply) => {
      if (!authorized(request, reply)) return reply;
      return answer(request, reply, async () => applyForwardedUpsert(writer(), decodeForwardedCall(callHeader(request)), rawBodyOf(request)));
    });

    // Records a gateway already held (tRPC, gRPC), as a record frame: read without parsing a digit.
    scope.post(INTERNAL_RECORDS_PATH, { bodyLimit: MAX_FRAME_BYTES }, async (request, reply) => {
      if (!authorized(request, reply)) return reply;
      return answer(request, reply, async () => {
        const call = decodeRecordsCall(callHeader(request));
        const body = rawBodyOf(request);
        // The frame's reader copies everything out of the bytes (records own their values).
        const records = await upsertBodyBuffers.withJoined(body.chunks, body.length, decodeRecordFrame);
        return writer().upsert(call.index, call.namespace, records);
      });
    });
  });
}

/** The call an upsert route's request carries in its header. */
function callHeader(request: FastifyRequest): string | undefined {
  const header = request.headers[FORWARDED_CALL_HEADER];
  return Array.isArray(header) ? header[0] : header;
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
