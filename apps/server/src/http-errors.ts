import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_HTTP_STATUS, type ErrorCode } from '@conifer/core';
import { BODY_TOO_LARGE_MESSAGE, INTERNAL_MESSAGE, malformedJsonMessage, TRPC_CODE_OF, type ConiferErrorData } from '@conifer/api';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

/** Where the tRPC router is mounted. */
export const TRPC_PREFIX = '/trpc';

interface HttpFailure {
  status: number;
  code: ErrorCode;
  message: string;
}

/**
 * What a client sees for an error Fastify raised before a handler ran (body over the limit,
 * unreadable body, unsupported content type) or a handler that crashed.
 */
export function classifyHttpError(error: FastifyError): HttpFailure {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
    // Every request limit is a 400 naming the limit, the body size included (Fastify says 413).
    return { status: 400, code: 'INVALID_ARGUMENT', message: BODY_TOO_LARGE_MESSAGE };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, code: 'INVALID_ARGUMENT', message: malformedJsonMessage(error.message) };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, code: status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message: error.message };
  if (status === 503) return { status, code: 'UNAVAILABLE', message: 'Service unavailable.' };
  return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE };
}

/**
 * Sends a failure in the envelope the caller understands: tRPC's error shape under `/trpc` (so the
 * SDK rebuilds the Conifer error class), `{ error: { code, message }, status }` elsewhere.
 */
export function sendFailure(request: FastifyRequest, reply: FastifyReply, failure: HttpFailure): FastifyReply {
  reply.code(failure.status).type('application/json; charset=utf-8');
  if (request.url.startsWith(`${TRPC_PREFIX}/`)) {
    const path = request.url.slice(TRPC_PREFIX.length + 1).split('?')[0];
    const data: ConiferErrorData = { code: failure.code, httpStatus: failure.status };
    if (path) data.path = safeDecode(path);
    return reply.send({ error: { message: failure.message, code: TRPC_ERROR_CODES_BY_KEY[TRPC_CODE_OF[failure.code]], data } });
  }
  return reply.send({ error: { code: failure.code, message: failure.message }, status: failure.status });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Installs the error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = classifyHttpError(error);
    if (failure.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendFailure(request, reply, failure);
  });
  app.setNotFoundHandler((request, reply) =>
    sendFailure(request, reply, {
      status: ERROR_HTTP_STATUS.NOT_FOUND,
      code: 'NOT_FOUND',
      message: `Route ${request.method} ${request.url.split('?')[0]} not found.`,
    }),
  );
}
