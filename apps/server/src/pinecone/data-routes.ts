import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import {
  InvalidArgumentError,
  NotFoundError,
  createNamespaceSchema,
  deleteSchema,
  fetchByMetadataSchema,
  fetchSchema,
  listSchema,
  namespaceRefSchema,
  querySchema,
  statsSchema,
} from '@conifer/core';
import { listNamespacesSchema, updateRequestSchema, type NamespaceDescription, type Services } from '@conifer/api';
import type { ReadOptions } from '@conifer/engine';
import { UNSUPPORTED, UnimplementedError, parseWith, useDataPlaneErrors, withWireFields } from './errors.ts';
import { acceptJsonBodies, acceptRawBodies, authOf, bodyOf, queryInt, queryList, queryParam, rawBodyOf, requireApiKey } from './plugin-support.ts';
import { registerRecords } from './records-routes.ts';
import { registerImports } from './import-routes.ts';
import { routingNamespaceOf, UPSERT_FIELDS, upsertInputOfChunks } from './upsert-body.ts';
import { echoNamespace, toWireMatch, toWireStats, vectorsById, wireNamespaceName } from './wire.ts';

/** Route prefix of an index's data plane; the `host` of an index points here. */
export const DATA_PLANE_PREFIX = '/projects/:projectId/indexes/:indexName';

/** Response header carrying the LSN a write was logged at. */
export const LSN_HEADER = 'x-pinecone-request-lsn';

/** Request header of a read: `strong` or `eventual` (the default). */
export const CONSISTENCY_HEADER = 'x-conifer-consistency';

/** Request header of a read: the LSN (a write's `x-pinecone-request-lsn`) the read must reflect. */
export const MIN_LSN_HEADER = 'x-conifer-min-lsn';

/** Response header of every read: the LSN of the namespace the read reflects. */
export const INDEXED_LSN_HEADER = 'x-pinecone-max-indexed-lsn';

/** One request header as a string (repeated headers are joined by Node, and so refused below). */
function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * What `x-conifer-min-lsn` accepts: 1 to 15 decimal digits ("1e3", "+5", "0x10" and "" are
 * refused). 15 digits hold any LSN a namespace reaches and stay exact as a number; the OpenAPI
 * document states this same pattern.
 */
export const MIN_LSN_PATTERN = '^[0-9]{1,15}$';
const MIN_LSN = new RegExp(MIN_LSN_PATTERN);

/**
 * The read options of a request, from `x-conifer-consistency` and `x-conifer-min-lsn`; a value
 * those headers do not accept is a 400 naming the header.
 */
export function readOptionsOf(request: FastifyRequest): ReadOptions {
  return readOptionsFrom((name) => headerOf(request, name));
}

/**
 * Read options from a request's headers, or a gRPC call's metadata of the same names, as `header`
 * gives them; an unaccepted value is an InvalidArgumentError naming the header.
 */
export function readOptionsFrom(header: (name: string) => string | undefined): ReadOptions {
  const consistency = header(CONSISTENCY_HEADER);
  const minLsn = header(MIN_LSN_HEADER);
  if (consistency !== undefined && consistency !== 'strong' && consistency !== 'eventual') {
    throw new InvalidArgumentError(`${CONSISTENCY_HEADER}: must be "eventual" or "strong"`);
  }
  if (minLsn !== undefined && !MIN_LSN.test(minLsn)) {
    throw new InvalidArgumentError(`${MIN_LSN_HEADER}: must be a decimal integer of 1–15 digits (the x-pinecone-request-lsn of a write)`);
  }
  return { consistency, minLsn: minLsn === undefined ? undefined : Number(minLsn) };
}

/**
 * Route options of the reads: their headers are checked as the request arrives (after the API
 * key, before the body is read), so a bad one is named even when the body is bad too.
 */
const READ_ROUTE = {
  // A callback hook, not an async one: no promise per read for a check that never waits.
  onRequest: (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    try {
      readOptionsOf(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  },
};

/**
 * Pinecone's `NamespaceDescription`: name, `record_count`, and for a namespace created with a
 * schema, the `schema` and the fields it indexes (`indexed_fields`); both absent otherwise.
 */
function toWireNamespace(request: FastifyRequest, ns: NamespaceDescription): object {
  return {
    name: wireNamespaceName(request, ns.name),
    record_count: ns.recordCount,
    ...(ns.schema !== undefined ? { schema: ns.schema } : {}),
    ...(ns.indexedFields !== undefined ? { indexed_fields: { fields: ns.indexedFields } } : {}),
  };
}

interface IndexParams {
  projectId: string;
  indexName: string;
}

/**
 * The Pinecone data plane of one index, under `/projects/{projectId}/indexes/{indexName}`: the
 * client appends `/vectors/upsert`, `/query`, ... to the index's `host`. The project in the path
 * must be the key's project; any other project's index is "not found", like a missing one.
 * Every write answers with a JSON body and the `x-pinecone-request-lsn` header; every record read
 * (query, fetch, fetch by metadata, list) takes the `x-conifer-consistency` and `x-conifer-min-lsn`
 * headers and answers `x-pinecone-max-indexed-lsn`.
 */
export function registerDataPlane(app: FastifyInstance, options: { services: Services }): void {
  const { services } = options;
  useDataPlaneErrors(app);
  acceptJsonBodies(app);
  requireApiKey(app, services);

  /** The index the path names, checked against the caller's project. */
  const indexOf = (request: FastifyRequest): string => {
    const { projectId, indexName } = request.params as IndexParams;
    if (projectId !== authOf(request).projectId) throw new NotFoundError(`Index ${indexName} not found.`);
    return indexName;
  };

  const withLsn = (reply: FastifyReply, lsn: number | undefined): FastifyReply => (lsn === undefined ? reply : reply.header(LSN_HEADER, String(lsn)));
  const withIndexedLsn = (reply: FastifyReply, indexedLsn: number): FastifyReply => reply.header(INDEXED_LSN_HEADER, String(indexedLsn));

  // In a scope of its own, the upsert's body stays in the chunks it arrived in: a cluster gateway
  // forwards them, unread but for the namespace, to the owning writer; otherwise they are parsed here.
  void app.register(async (scope) => {
    acceptRawBodies(scope);
    scope.post('/vectors/upsert', async (request, reply) => {
      const index = indexOf(request);
      const body = rawBodyOf(request);
      const namespace = services.upsertBody ? routingNamespaceOf(body.chunks, body.length) : undefined;
      const upserting =
        namespace !== undefined && services.upsertBody
          ? services.upsertBody(authOf(request), { index, namespace, body: body.chunks })
          : services.upsert(authOf(request), await upsertInputOfChunks(index, body.chunks, body.length));
      const result = await upserting.catch((error: unknown) => {
        // The engine names the records of a batch as the service layer does; the wire calls them vectors.
        throw withWireFields(error, UPSERT_FIELDS);
      });
      return withLsn(reply, result.lsn).send({ upsertedCount: result.upsertedCount });
    });
  });

  app.post('/query', READ_ROUTE, async (request, reply) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    if (body.queries !== undefined) throw new InvalidArgumentError('queries: the deprecated multi-query form is not supported; send one query per request');
    const input = parseWith(querySchema, { ...body, index });
    const result = await services.query(authOf(request), input, readOptionsOf(request));
    return withIndexedLsn(reply, result.indexedLsn).send({
      matches: result.matches.map(toWireMatch),
      namespace: echoNamespace(request, body.namespace),
      usage: result.usage,
    });
  });

  app.get('/vectors/fetch', READ_ROUTE, async (request, reply) => {
    const index = indexOf(request);
    const namespace = queryParam(request, 'namespace');
    const input = parseWith(fetchSchema, { index, namespace, ids: queryList(request, 'ids') });
    const result = await services.fetch(authOf(request), input, readOptionsOf(request));
    return withIndexedLsn(reply, result.indexedLsn).send({
      vectors: vectorsById(Object.values(result.records)),
      namespace: echoNamespace(request, namespace),
      usage: result.usage,
    });
  });

  app.post('/vectors/fetch_by_metadata', READ_ROUTE, async (request, reply) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    const input = parseWith(fetchByMetadataSchema, { ...body, index });
    const result = await services.fetchByMetadata(authOf(request), input, readOptionsOf(request));
    return withIndexedLsn(reply, result.indexedLsn).send({
      vectors: vectorsById(result.records),
      namespace: echoNamespace(request, body.namespace),
      ...(result.pagination !== undefined ? { pagination: result.pagination } : {}),
      usage: result.usage,
    });
  });

  app.post('/vectors/update', async (request, reply) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    const input = parseWith(updateRequestSchema, { ...body, index });
    const result = await services.update(authOf(request), input);
    return withLsn(reply, result.lsn).send({ matchedRecords: result.matchedRecords });
  });

  app.post('/vectors/delete', async (request, reply) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    // `deleteAll: false` alongside ids or a filter means "not all": drop it before the exactly-one check.
    const { deleteAll, ...rest } = body;
    const input = parseWith(deleteSchema, { ...rest, ...(deleteAll === false ? {} : { deleteAll }), index });
    const result = await services.delete(authOf(request), input);
    return withLsn(reply, result.lsn).send({});
  });

  app.get('/vectors/list', READ_ROUTE, async (request, reply) => {
    const index = indexOf(request);
    const namespace = queryParam(request, 'namespace');
    const input = parseWith(listSchema, {
      index,
      namespace,
      prefix: queryParam(request, 'prefix'),
      limit: queryInt(request, 'limit'),
      paginationToken: queryParam(request, 'paginationToken') || undefined,
    });
    const result = await services.list(authOf(request), input, readOptionsOf(request));
    return withIndexedLsn(reply, result.indexedLsn).send({
      vectors: result.ids.map((id) => ({ id })),
      // Absent on the last page: the client's tests assert `pagination` is undefined, not null.
      ...(result.pagination !== undefined ? { pagination: result.pagination } : {}),
      namespace: echoNamespace(request, namespace),
      usage: result.usage,
    });
  });

  const describeIndexStats = async (request: FastifyRequest) => {
    const index = indexOf(request);
    if (request.method === 'POST' && bodyOf(request).filter !== undefined) {
      throw new InvalidArgumentError('filter: serverless indexes do not support filtering describe_index_stats by metadata');
    }
    const stats = await services.describeIndexStats(authOf(request), parseWith(statsSchema, { index }));
    return toWireStats(stats, (name) => wireNamespaceName(request, name));
  };
  app.post('/describe_index_stats', describeIndexStats);
  app.get('/describe_index_stats', describeIndexStats);

  app.get('/namespaces', async (request) => {
    const index = indexOf(request);
    const input = parseWith(listNamespacesSchema, {
      index,
      prefix: queryParam(request, 'prefix') || undefined,
      limit: queryInt(request, 'limit'),
      paginationToken: queryParam(request, 'paginationToken') || undefined,
    });
    const page = await services.listNamespaces(authOf(request), input);
    return {
      namespaces: page.namespaces.map((ns) => toWireNamespace(request, ns)),
      ...(page.pagination !== undefined ? { pagination: page.pagination } : {}),
      total_count: page.totalCount,
    };
  });

  app.post('/namespaces', async (request, reply) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    // The whole body is checked before anything is created: a bad `schema` must not leave a namespace behind.
    const input = parseWith(createNamespaceSchema, { index, namespace: body.name, schema: body.schema }, { namespace: 'name' });
    const created = await services.createNamespace(authOf(request), input);
    // 200, as Pinecone's spec answers a created namespace (not 201), with the schema as stored.
    return reply.send(toWireNamespace(request, created));
  });

  app.get('/namespaces/:namespace', async (request) => {
    const index = indexOf(request);
    const { namespace } = request.params as { namespace: string };
    const described = await services.describeNamespace(authOf(request), parseWith(namespaceRefSchema, { index, namespace }));
    return toWireNamespace(request, described);
  });

  app.delete('/namespaces/:namespace', async (request, reply) => {
    const index = indexOf(request);
    const { namespace } = request.params as { namespace: string };
    await services.deleteNamespace(authOf(request), parseWith(namespaceRefSchema, { index, namespace }));
    // 200 with a JSON body, as the spec says (the deletion is done when it answers).
    return reply.send({});
  });

  // Search by vector or id over the records API; its text and rerank parts are refused there.
  registerRecords(app, { services, indexOf, readOptionsOf, withIndexedLsn });

  // Bulk import: Parquet files from object storage into new namespaces, in the background.
  registerImports(app, { services, indexOf });

  // Pinecone data-plane paths Conifer does not serve: 400 UNIMPLEMENTED naming the feature, on
  // every method, by path and on an index's port alike — never a bare "route not found".
  const unimplemented = (message: string) => async (request: FastifyRequest) => {
    indexOf(request);
    throw new UnimplementedError(message);
  };
  for (const [path, message] of [
    ['/namespace-aliases', UNSUPPORTED.namespaceAliases],
    ['/assistant', UNSUPPORTED.assistant],
  ] as const) {
    app.all(path, unimplemented(message));
    app.all(`${path}/*`, unimplemented(message));
  }
  app.all('/namespaces/:namespace/documents/*', unimplemented(UNSUPPORTED.documents));
}
