import { ConiferError, errorFromCode, FencedError, InternalError, InvalidArgumentError, isErrorCode, parseFieldIssues, type FieldIssue } from '@conifer/core';
import type { DataPlane, IndexHandle, ReadOptions } from '@conifer/engine';
import { z } from 'zod';

/**
 * The node-internal data protocol: a gateway sends one data-plane call (the `DataPlane` method, the
 * index, the namespace and the method's input) to the writer that owns the namespace, as JSON over
 * HTTP, with the cluster secret. The writer runs it on its engine and answers the result, or the
 * error as `{ error: { code, message, issues?, written? } }` with the error's HTTP status, which
 * the gateway turns back into the same error class.
 */
export const INTERNAL_DATA_PATH = '/internal/v1/data';

export const DATA_OPS = [
  // Sent by gateways older than the record frame (INTERNAL_RECORDS_PATH), which newer gateways use:
  // still served, so writers can be upgraded before gateways.
  'upsert',
  'query',
  'fetch',
  'update',
  'delete',
  'list',
  'fetchByMetadata',
  'createNamespace',
  'namespaceStats',
  'namespaceNames',
  'deleteNamespace',
  'dropIndex',
  'describeNamespace',
] as const;
export type DataOp = (typeof DATA_OPS)[number];

export interface DataCall {
  op: DataOp;
  index: IndexHandle;
  namespace: string;
  input?: unknown;
  /** How fresh a read must be (reads only). */
  read?: ReadOptions;
  /** Which of the node's data planes answers: its writer's (default) or its query replicas'. */
  role?: 'writer' | 'query';
}

const dataCallSchema = z.object({
  op: z.enum(DATA_OPS),
  // A sparse index has dimension 0 and says so in `vectorType` (a node that dropped it would take
  // the index for a dense one).
  index: z
    .object({
      id: z.string().min(1),
      dimension: z.number().int().nonnegative(),
      metric: z.enum(['cosine', 'euclidean', 'dotproduct']),
      vectorType: z.enum(['dense', 'sparse']).optional(),
    })
    .refine((index) => (index.vectorType === 'sparse') === (index.dimension === 0), {
      path: ['dimension'],
      message: 'must be positive for a dense index and 0 for a sparse one',
    }),
  namespace: z.string(),
  input: z.unknown().optional(),
  read: z.object({ consistency: z.enum(['eventual', 'strong']).optional(), minLsn: z.number().int().nonnegative().optional() }).optional(),
  role: z.enum(['writer', 'query']).optional(),
});

/**
 * An upsert forwarded as the client sent it: the gateway routes it by the namespace it read from
 * the body's text (without parsing the vectors) and sends the body's bytes to the owner, which
 * parses and validates it as the gateway's own API would have — the JSON of vectors is parsed once
 * in the cluster, on the writer's core, not twice plus an encoding on the gateway's. The call rides
 * in a header (base64url JSON), the body is the request's body.
 */
export const INTERNAL_UPSERT_PATH = '/internal/v1/upsert';
export const FORWARDED_CALL_HEADER = 'x-conifer-call';

export interface ForwardedUpsertCall {
  index: IndexHandle;
  /** The index's name, as the API's validation of the body names it. */
  indexName: string;
  /** The namespace the gateway routed by; the writer applies the write only if the body says the same. */
  namespace: string;
}

/**
 * A forwarded upsert's outcome: applied (with the bytes of its records, for rate limits and
 * metering), or not applied because the body's namespace is not the one it was routed by.
 */
export type ForwardedUpsertResult = { upsertedCount: number; lsn: number; recordBytes: number } | { misroutedTo: string };

const recordsCallSchema = z.object({ index: dataCallSchema.shape.index, namespace: z.string() });
const forwardedUpsertCallSchema = recordsCallSchema.extend({ indexName: z.string().min(1) });

/** A forwarded or records upsert's call, as its header carries it. */
export function encodeCallHeader(call: ForwardedUpsertCall | RecordsCall): string {
  return Buffer.from(JSON.stringify(call)).toString('base64url');
}

/** The call of a forwarded upsert from its header; InvalidArgumentError when it is not one. */
export function decodeForwardedCall(header: string | undefined): ForwardedUpsertCall {
  return decodeCallHeader(forwardedUpsertCallSchema, header) as ForwardedUpsertCall;
}

/**
 * An upsert whose records the gateway already holds (from the SDK's tRPC API, gRPC, or a REST body
 * the gateway had to parse itself): sent as a record frame (record-frame.ts) — float32, not JSON,
 * which the writer reads without parsing a digit — with the call (index and namespace) in the
 * same header as a forwarded body's.
 */
export const INTERNAL_RECORDS_PATH = '/internal/v1/upsert-records';

export interface RecordsCall {
  index: IndexHandle;
  namespace: string;
}

/** The call of a records upsert from its header; InvalidArgumentError when it is not one. */
export function decodeRecordsCall(header: string | undefined): RecordsCall {
  return decodeCallHeader(recordsCallSchema, header) as RecordsCall;
}

/** A call from its header (base64url JSON) as `schema` reads it; InvalidArgumentError when it is not one. */
function decodeCallHeader<T>(schema: z.ZodType<T>, header: string | undefined): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError(`${FORWARDED_CALL_HEADER}: must be base64url JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw InvalidArgumentError.fromSchema(parsed.error.issues);
  return parsed.data;
}

/** What a writer's engine offers the protocol: the data plane, plus namespace names without opening them. */
export interface LocalDataPlane extends DataPlane {
  namespaceNames(index: IndexHandle): Promise<string[]>;
}

/** Parses a call's body; InvalidArgumentError when it is not one. */
export function parseDataCall(body: unknown): DataCall {
  const parsed = dataCallSchema.safeParse(body);
  if (!parsed.success) throw InvalidArgumentError.fromSchema(parsed.error.issues);
  return parsed.data as DataCall;
}

/** Runs a call on the writer's engine. Inputs were validated by the gateway's API layer. */
export function serveDataCall(data: LocalDataPlane, call: DataCall): Promise<unknown> {
  const { index, namespace, read } = call;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the input's type is the op's, checked where the gateway accepted it
  const input = call.input as any;
  switch (call.op) {
    case 'upsert':
      return data.upsert(index, namespace, input);
    case 'query':
      return data.query(index, namespace, input, read);
    case 'fetch':
      return data.fetch(index, namespace, input, read);
    case 'update':
      return data.update(index, namespace, input);
    case 'delete':
      return data.delete(index, namespace, input);
    case 'list':
      return data.list(index, namespace, input, read);
    case 'fetchByMetadata':
      return data.fetchByMetadata(index, namespace, input, read);
    case 'createNamespace':
      return data.createNamespace(index, namespace).then(() => null);
    case 'namespaceStats':
      return data.namespaceStats(index, namespace);
    case 'namespaceNames':
      return data.namespaceNames(index);
    case 'deleteNamespace':
      return data.deleteNamespace(index, namespace).then(() => null);
    case 'dropIndex':
      return data.dropIndex(index).then(() => null);
    case 'describeNamespace':
      return data.describeNamespace(index, namespace);
  }
}

export interface WireError {
  code: string;
  message: string;
  issues?: readonly FieldIssue[];
  written?: boolean;
}

/** An error as the writer answers it: status and body. Anything not a ConiferError is an internal error. */
export function encodeError(err: unknown): { status: number; body: { error: WireError } } {
  const e = err instanceof ConiferError ? err : new InternalError('Internal server error.');
  return {
    status: e.httpStatus,
    body: {
      error: {
        code: e.code,
        message: e.message,
        ...(e instanceof InvalidArgumentError && e.issues.length > 0 ? { issues: e.issues } : {}),
        ...(e instanceof FencedError ? { written: e.written } : {}),
      },
    },
  };
}

/** The error a writer answered, as the class it was on the writer. */
export function decodeError(status: number, body: unknown): ConiferError {
  const wire = (body as { error?: Partial<WireError> } | null)?.error;
  if (!wire || typeof wire.code !== 'string' || !isErrorCode(wire.code))
    return new InternalError(`a cluster node answered HTTP ${status} without an error body`);
  const message = wire.message ?? '';
  if (wire.code === 'UNAVAILABLE' && typeof wire.written === 'boolean') return new FencedError(message, { written: wire.written });
  return errorFromCode(wire.code, message, parseFieldIssues(wire.issues));
}

/**
 * JSON that keeps vectors: a Float32Array would otherwise serialize as an object of indices. The
 * typed arrays are converted first rather than through a replacer, which JSON.stringify would
 * call once per number of every vector.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(plain(value));
}

function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  if (Array.isArray(value)) return value.length > 0 && typeof value[0] === 'number' ? value : value.map(plain);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = plain(v);
  return out;
}
