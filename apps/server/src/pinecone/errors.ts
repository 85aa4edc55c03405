import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConiferError, ERROR_HTTP_STATUS, InvalidArgumentError, type ErrorCode } from '@conifer/core';
import { DeletionProtectedError, IndexPortsExhaustedError } from '@conifer/control';
import { INTERNAL_MESSAGE } from '@conifer/api';
import type { z } from 'zod';
import { classifyHttpError } from '../http-errors.ts';

/**
 * A Pinecone operation Conifer does not offer (collections, inference, ...). Answered
 * with HTTP 400 and code UNIMPLEMENTED (gRPC 12), not 501: the Pinecone clients retry every
 * status >= 500 with backoff, which would only delay the same answer.
 */
export class UnimplementedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnimplementedError';
  }
}

/**
 * What Conifer does not offer, each said the same way wherever it is asked for: the control plane
 * at the root, an index's data plane by path or on its own port. Each is an {@link UnimplementedError}
 * (400 UNIMPLEMENTED); a refusal tied to one field of a body is prefixed with that field's wire name.
 */
export const UNSUPPORTED = {
  pods: 'Pod-based indexes are not supported by Conifer; create a serverless index.',
  byoc: 'BYOC (bring your own cloud) indexes are not supported by Conifer; create a serverless index.',
  dedicatedReadCapacity: 'Dedicated read capacity is not supported by Conifer; only OnDemand.',
  collections: 'Collections are not supported by Conifer.',
  integratedEmbedding: 'Indexes with integrated embedding are not supported by Conifer.',
  inference: 'Pinecone Inference (embed, rerank, hosted models) is not supported by Conifer.',
  assistant: 'Pinecone Assistant is not supported by Conifer.',
  textRecords:
    'Upserting text records is not supported by Conifer: it needs an integrated embedding model. Embed the text yourself and send vectors to /vectors/upsert.',
  documents:
    'The documents API (API 2026-07) is not supported by Conifer; use the vectors API (/vectors/upsert, /query, /vectors/fetch, ...) or /records/namespaces/{namespace}/search.',
  namespaceAliases: 'Namespace aliases are not supported by Conifer.',
} as const;

/** Codes of the Pinecone faces: Conifer's, plus the few Pinecone has that Conifer's vocabulary lacks. */
export type WireCode = ErrorCode | 'UNIMPLEMENTED' | 'UNPROCESSABLE_ENTITY' | 'FORBIDDEN';

export interface WireFailure {
  status: number;
  code: WireCode;
  message: string;
}

/** gRPC status code of each failure, for the data plane's `rpcStatus` body. */
export const GRPC_CODE: Record<WireCode, number> = {
  INVALID_ARGUMENT: 3,
  UNPROCESSABLE_ENTITY: 3,
  PAYLOAD_TOO_LARGE: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FORBIDDEN: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

/** Any thrown value → status, code and a message safe to show. */
export function classify(error: unknown): WireFailure {
  if (error instanceof DeletionProtectedError) return { status: 403, code: 'FORBIDDEN', message: error.message };
  // A quota, as Pinecone answers "max indexes reached": 403, which clients do not retry (they retry 429).
  if (error instanceof IndexPortsExhaustedError) return { status: 403, code: 'FORBIDDEN', message: error.message };
  if (error instanceof ConiferError) {
    if (error.code === 'INTERNAL') return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE };
    return { status: ERROR_HTTP_STATUS[error.code], code: error.code, message: error.message };
  }
  if (error instanceof UnimplementedError) return { status: 400, code: 'UNIMPLEMENTED', message: error.message };
  if (error instanceof Error && ('statusCode' in error || 'code' in error || error instanceof SyntaxError)) {
    const failure = classifyHttpError(error as FastifyError);
    return { status: failure.status, code: failure.code, message: failure.message };
  }
  return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE };
}

/** Schema keys the wire names differently (e.g. `{ records: 'vectors' }`), by the root of a field path. */
export type FieldRenames = Readonly<Record<string, string>>;

/**
 * `error` with its fields named the way the wire names them: the root of each issue's path renamed,
 * the message rebuilt from path and reason. Anything but an `InvalidArgumentError` is returned as is.
 */
export function withWireFields(error: unknown, renames: FieldRenames): unknown {
  if (!(error instanceof InvalidArgumentError)) return error;
  return error.withPaths((path) => {
    const [root, ...rest] = path;
    return typeof root === 'string' && Object.hasOwn(renames, root) ? [renames[root]!, ...rest] : path;
  });
}

/**
 * Parses `input` with a shared schema; a failure is an `InvalidArgumentError` whose issues (and so
 * message) name the field the way the wire names it (see `withWireFields`).
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, renames: FieldRenames = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
  }));
  throw withWireFields(InvalidArgumentError.of(issues), renames);
}

function logIfInternal(request: FastifyRequest, error: unknown, failure: WireFailure): void {
  // A 503 is a state the client is told to retry (a store hiccup, a namespace changing owner, a
  // minimum LSN not reached yet): worth a warning, not an error with a stack per request.
  if (failure.status === 503) request.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'request refused as unavailable');
  else if (failure.status >= 500) request.log.error({ err: error }, 'request failed');
}

/** Data-plane error body (`rpcStatus`): `{ code: <gRPC code>, message, details: [] }`. */
export function sendDataPlaneFailure(reply: FastifyReply, failure: WireFailure): FastifyReply {
  return reply.code(failure.status).type('application/json; charset=utf-8').send({ code: GRPC_CODE[failure.code], message: failure.message, details: [] });
}

/** Control-plane error body (`ErrorResponse`): `{ error: { code, message }, status }`. */
export function sendControlPlaneFailure(reply: FastifyReply, failure: WireFailure): FastifyReply {
  const code = failure.code === 'PAYLOAD_TOO_LARGE' ? 'INVALID_ARGUMENT' : failure.code;
  return reply
    .code(failure.status)
    .type('application/json; charset=utf-8')
    .send({ error: { code, message: failure.message }, status: failure.status });
}

/** Installs the data-plane error handler on an encapsulated plugin. */
export function useDataPlaneErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const failure = classify(error);
    logIfInternal(request, error, failure);
    return sendDataPlaneFailure(reply, failure);
  });
}

/**
 * Installs the control-plane error handler on an encapsulated plugin. A body that is not JSON is
 * 422 UNPROCESSABLE_ENTITY there, as Pinecone answers it.
 */
export function useControlPlaneErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    let failure = classify(error);
    if (failure.status === 400 && failure.message.startsWith('malformed JSON')) failure = { ...failure, status: 422, code: 'UNPROCESSABLE_ENTITY' };
    logIfInternal(request, error, failure);
    return sendControlPlaneFailure(reply, failure);
  });
}
