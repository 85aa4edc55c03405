import { status as GrpcStatus, Metadata, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  createNamespaceSchema,
  deleteSchema,
  fetchByMetadataSchema,
  fetchSchema,
  listSchema,
  namespaceRefSchema,
  querySchema,
  statsSchema,
  type FetchedRecord,
  type ScoredRecord,
} from '@conifer/core';
import { apiKeyFromHeaders, listNamespacesSchema, updateRequestSchema, type AuthContext, type NamespaceDescription, type Services } from '@conifer/api';
import type { ReadOptions } from '@conifer/engine';
import { GRPC_CODE, classify, parseWith, withWireFields } from '../pinecone/errors.ts';
import { INDEXED_LSN_HEADER, LSN_HEADER, readOptionsFrom } from '../pinecone/data-routes.ts';
import { UPSERT_FIELDS } from '../pinecone/upsert-body.ts';
import { grpcUpsertInputOf, type UpsertMessage } from './upsert.ts';
import { defaultNamespaceNameFor, toWireStats } from '../pinecone/wire.ts';
import { fromStruct, toStruct, type StructMessage } from './struct.ts';

/** The index a gRPC call is for: the one whose host (port) the client dialled. */
export interface IndexTarget {
  projectId: string;
  indexName: string;
}

/** Says which index a call reached, or undefined when its address serves no index. */
export type IndexResolver = () => IndexTarget | undefined;

export interface GrpcOptions {
  services: Services;
  resolveIndex: IndexResolver;
  logger: Logger;
  /** Records one finished call in the server's request metrics (HTTP status equivalent, seconds). */
  observe?: ((procedure: string, status: number, seconds: number) => void) | undefined;
}

/** What every handler gets: the caller, the index, and how to read the call's metadata. */
interface CallContext {
  auth: AuthContext;
  index: string;
  header(name: string): string | undefined;
  /** The default namespace's name for the client's API version (`x-pinecone-api-version`). */
  defaultNamespace: string;
}

/** A handler's answer, with the response metadata (LSN headers) to send before it. */
interface Answer {
  response: object;
  metadata?: Record<string, string>;
}

type Handler = (context: CallContext, request: Record<string, unknown>) => Promise<Answer>;

const structOrUndefined = (value: unknown): Record<string, unknown> | undefined =>
  value === undefined || value === null ? undefined : fromStruct(value as StructMessage);

/** A record as a protobuf `Vector`. */
function toVectorMessage(record: FetchedRecord): object {
  return {
    id: record.id,
    values: record.values ?? [],
    ...(record.sparseValues !== undefined ? { sparseValues: record.sparseValues } : {}),
    ...(record.metadata !== undefined ? { metadata: toStruct(record.metadata) } : {}),
  };
}

/** A match as a protobuf `ScoredVector`. */
function toScoredMessage(match: ScoredRecord): object {
  return {
    id: match.id,
    score: match.score,
    values: match.values ?? [],
    ...(match.sparseValues !== undefined ? { sparseValues: match.sparseValues } : {}),
    ...(match.metadata !== undefined ? { metadata: toStruct(match.metadata) } : {}),
  };
}

/** Records keyed by id, as own properties (an id such as "__proto__" stays an ordinary key). */
const vectorMap = (records: Iterable<FetchedRecord>): Record<string, object> => Object.fromEntries([...records].map((r) => [r.id, toVectorMessage(r)]));

/** The namespace a response echoes: the request's, else the default's name for this client. */
const echo = (context: CallContext, namespace: unknown): string => (typeof namespace === 'string' && namespace !== '' ? namespace : context.defaultNamespace);

/** A namespace name for a response: the default one as this client's API version names it. */
const wireName = (context: CallContext, name: string): string => (name === '' ? context.defaultNamespace : name);

/**
 * A `NamespaceDescription` message: name, record count, and for a namespace created with a schema,
 * the schema and the fields it indexes (`indexedFields`); both absent otherwise.
 */
function toNamespaceMessage(context: CallContext, ns: NamespaceDescription): object {
  return {
    name: wireName(context, ns.name),
    recordCount: ns.recordCount,
    ...(ns.schema !== undefined ? { schema: ns.schema } : {}),
    ...(ns.indexedFields !== undefined ? { indexedFields: { fields: ns.indexedFields } } : {}),
  };
}

/**
 * Pinecone's `VectorService` over the same services, limits, rate limits and metering as the REST
 * data plane: each request is turned into the REST body it mirrors and read by the same schemas, so
 * a field is named, limited and refused alike on both. The API key is the `api-key` metadata; the
 * read options are the `x-conifer-consistency` / `x-conifer-min-lsn` metadata; writes answer the
 * `x-pinecone-request-lsn` metadata and reads `x-pinecone-max-indexed-lsn`, as REST's headers.
 */
export function vectorServiceHandlers(options: GrpcOptions): UntypedServiceImplementation {
  const { services, resolveIndex, logger, observe } = options;
  const read = (context: CallContext): ReadOptions => readOptionsFrom(context.header);
  const lsn = (value: number | undefined): Record<string, string> => (value === undefined ? {} : { [LSN_HEADER]: String(value) });
  const indexedLsn = (value: number): Record<string, string> => ({ [INDEXED_LSN_HEADER]: String(value) });

  const handlers: Record<string, Handler> = {
    async Upsert(context, request) {
      const input = grpcUpsertInputOf(context.index, request as UpsertMessage);
      const result = await services.upsert(context.auth, input).catch((error: unknown) => {
        throw withWireFields(error, UPSERT_FIELDS);
      });
      return { response: { upsertedCount: result.upsertedCount }, metadata: lsn(result.lsn) };
    },

    async Query(context, request) {
      if (Array.isArray(request.queries) && request.queries.length > 0) {
        throw new InvalidArgumentError('queries: the deprecated multi-query form is not supported; send one query per request');
      }
      const input = parseWith(querySchema, {
        index: context.index,
        namespace: request.namespace,
        topK: request.topK ?? 0,
        vector: request.vector,
        sparseVector: request.sparseVector,
        id: request.id,
        filter: structOrUndefined(request.filter),
        includeValues: request.includeValues ?? false,
        includeMetadata: request.includeMetadata ?? false,
      });
      const result = await services.query(context.auth, input, read(context));
      return {
        response: { matches: result.matches.map(toScoredMessage), namespace: echo(context, request.namespace), usage: result.usage },
        metadata: indexedLsn(result.indexedLsn),
      };
    },

    async Fetch(context, request) {
      const input = parseWith(fetchSchema, { index: context.index, namespace: request.namespace, ids: request.ids ?? [] });
      const result = await services.fetch(context.auth, input, read(context));
      return {
        response: { vectors: vectorMap(Object.values(result.records)), namespace: echo(context, request.namespace), usage: result.usage },
        metadata: indexedLsn(result.indexedLsn),
      };
    },

    async FetchByMetadata(context, request) {
      const input = parseWith(fetchByMetadataSchema, {
        index: context.index,
        namespace: request.namespace,
        filter: structOrUndefined(request.filter),
        limit: request.limit,
        paginationToken: request.paginationToken || undefined,
      });
      const result = await services.fetchByMetadata(context.auth, input, read(context));
      return {
        response: {
          vectors: vectorMap(result.records),
          namespace: echo(context, request.namespace),
          ...(result.pagination !== undefined ? { pagination: result.pagination } : {}),
          usage: result.usage,
        },
        metadata: indexedLsn(result.indexedLsn),
      };
    },

    async Update(context, request) {
      const input = parseWith(updateRequestSchema, {
        index: context.index,
        namespace: request.namespace,
        id: request.id || undefined,
        filter: structOrUndefined(request.filter),
        values: Array.isArray(request.values) && request.values.length > 0 ? request.values : undefined,
        sparseValues: request.sparseValues,
        setMetadata: structOrUndefined(request.setMetadata),
        dryRun: request.dryRun,
      });
      const result = await services.update(context.auth, input);
      return { response: { matchedRecords: result.matchedRecords }, metadata: lsn(result.lsn) };
    },

    async Delete(context, request) {
      const ids = request.ids as string[] | undefined;
      const input = parseWith(deleteSchema, {
        index: context.index,
        namespace: request.namespace,
        ids: ids !== undefined && ids.length > 0 ? ids : undefined,
        // proto3 cannot tell `false` from absent: false means "not all", as REST's `deleteAll: false`.
        deleteAll: request.deleteAll === true ? true : undefined,
        filter: structOrUndefined(request.filter),
      });
      const result = await services.delete(context.auth, input);
      return { response: {}, metadata: lsn(result.lsn) };
    },

    async List(context, request) {
      const input = parseWith(listSchema, {
        index: context.index,
        namespace: request.namespace,
        prefix: request.prefix,
        limit: request.limit,
        paginationToken: request.paginationToken || undefined,
      });
      const result = await services.list(context.auth, input, read(context));
      return {
        response: {
          vectors: result.ids.map((id) => ({ id })),
          ...(result.pagination !== undefined ? { pagination: result.pagination } : {}),
          namespace: echo(context, request.namespace),
          usage: result.usage,
        },
        metadata: indexedLsn(result.indexedLsn),
      };
    },

    async DescribeIndexStats(context, request) {
      if (request.filter !== undefined && request.filter !== null) {
        throw new InvalidArgumentError('filter: serverless indexes do not support filtering describe_index_stats by metadata');
      }
      const stats = await services.describeIndexStats(context.auth, parseWith(statsSchema, { index: context.index }));
      return { response: toWireStats(stats, (name) => wireName(context, name)) };
    },

    async ListNamespaces(context, request) {
      const input = parseWith(listNamespacesSchema, {
        index: context.index,
        prefix: request.prefix || undefined,
        limit: request.limit,
        paginationToken: request.paginationToken || undefined,
      });
      const page = await services.listNamespaces(context.auth, input);
      return {
        response: {
          namespaces: page.namespaces.map((ns) => toNamespaceMessage(context, ns)),
          ...(page.pagination !== undefined ? { pagination: page.pagination } : {}),
          totalCount: page.totalCount,
        },
      };
    },

    async DescribeNamespace(context, request) {
      const described = await services.describeNamespace(context.auth, parseWith(namespaceRefSchema, { index: context.index, namespace: request.namespace }));
      return { response: toNamespaceMessage(context, described) };
    },

    async DeleteNamespace(context, request) {
      await services.deleteNamespace(context.auth, parseWith(namespaceRefSchema, { index: context.index, namespace: request.namespace }));
      return { response: {} };
    },

    async CreateNamespace(context, request) {
      // A MetadataSchema with no fields arrives without its (empty) map.
      const given = request.schema as { fields?: unknown } | null | undefined;
      const schema = given === undefined || given === null ? undefined : { ...given, fields: given.fields ?? {} };
      const input = parseWith(createNamespaceSchema, { index: context.index, namespace: request.name, schema }, { namespace: 'name' });
      const created = await services.createNamespace(context.auth, input);
      return { response: toNamespaceMessage(context, created) };
    },
  };

  /** The caller and index of a call: the index its address serves, in the key's project. */
  async function contextOf(call: ServerUnaryCall<unknown, unknown>): Promise<CallContext> {
    const header = (name: string): string | undefined => {
      const values = call.metadata.get(name);
      if (values.length === 0) return undefined;
      return values.map((v) => (typeof v === 'string' ? v : v.toString('utf8'))).join(', ');
    };
    const target = resolveIndex();
    if (target === undefined) throw new NoIndexError();
    const key = apiKeyFromHeaders({ 'api-key': header('api-key'), authorization: header('authorization') });
    // The key cache answers at once for a key it holds; otherwise the lookup (and its promise).
    const auth = key === undefined ? null : (services.authenticateCached(key) ?? (await services.authenticate(key)));
    if (auth === null) throw new UnauthenticatedError();
    // An index of another project is "not found", exactly as a missing one.
    if (auth.projectId !== target.projectId) throw new NotFoundError(`Index ${target.indexName} not found.`);
    return { auth, index: target.indexName, header, defaultNamespace: defaultNamespaceNameFor(header('x-pinecone-api-version')) };
  }

  const implementation: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const procedure = `/VectorService/${method}`;
    implementation[method] = (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => {
      const started = performance.now();
      const done = (httpStatus: number) => observe?.(procedure, httpStatus, (performance.now() - started) / 1000);
      contextOf(call)
        .then((context) => handler(context, call.request))
        .then(
          ({ response, metadata }) => {
            if (metadata !== undefined && Object.keys(metadata).length > 0) {
              const sent = new Metadata();
              for (const [name, value] of Object.entries(metadata)) sent.set(name, value);
              call.sendMetadata(sent);
            }
            callback(null, response);
            done(200);
          },
          (error: unknown) => {
            const failure = statusOf(error, method, logger);
            callback(failure);
            done(failure.httpStatus);
          },
        );
    };
  }
  return implementation;
}

/** A gRPC call reached an address that serves no index (the main port, or a port of no index). */
export class NoIndexError extends Error {
  constructor() {
    super("This address serves no index's data plane: dial the host describe_index returns for the index.");
    this.name = 'NoIndexError';
  }
}

/** A thrown value as the gRPC status the clients read: Pinecone's codes, the REST API's messages. */
function statusOf(error: unknown, method: string, logger: Logger): { code: number; details: string; httpStatus: number } {
  if (error instanceof NoIndexError) return { code: GrpcStatus.FAILED_PRECONDITION, details: error.message, httpStatus: 400 };
  const failure = classify(error);
  // Clients get "Internal server error."; operators get the cause and its stack.
  if (failure.code === 'INTERNAL') logger.error({ err: error, method }, 'gRPC call failed');
  return { code: GRPC_CODE[failure.code], details: failure.message, httpStatus: failure.status };
}
