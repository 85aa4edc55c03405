import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError, namespaceRefSchema, querySchema, type Metadata, type ScoredRecord } from '@conifer/core';
import type { Services } from '@conifer/api';
import type { ReadOptions } from '@conifer/engine';
import { UNSUPPORTED, UnimplementedError, parseWith } from './errors.ts';
import { acceptRawBodies, authOf, bodyOf } from './plugin-support.ts';
import { echoNamespace } from './wire.ts';

/**
 * The records API of Pinecone's data plane (API 2025-04 and later), as far as it needs no hosted
 * model: `POST /records/namespaces/{namespace}/search` by vector (dense, with an optional sparse
 * part for hybrid search) or by a record's id. Shapes of `SearchRecordsRequest` and
 * `SearchRecordsResponse` in pinecone-io/pinecone-api (2025-04 … 2026-07 db_data): snake_case,
 * `{query: {top_k, filter?, vector?: {values?, sparse_values?, sparse_indices?}, id?, inputs?,
 * match_terms?}, fields?, rerank?}` in, `{result: {hits: [{_id, _score, fields}]}, namespace,
 * usage: {read_units}}` out, `fields` being each hit's metadata (all of it when the request names
 * none). A search is a `/query` underneath: the same service call, so the same limits, filters,
 * read units, rate limits and read options.
 *
 * What needs an embedding or reranking model — text (`query.inputs`), `query.match_terms`,
 * `rerank`, and `POST /records/namespaces/{namespace}/upsert` (text records) — is refused with
 * 400 UNIMPLEMENTED naming the field and what to send instead.
 */

export interface RecordsRouteDeps {
  services: Services;
  /** The index the path names, checked against the caller's project. */
  indexOf: (request: FastifyRequest) => string;
  /** The read options of a request (`x-conifer-consistency`, `x-conifer-min-lsn`); a 400 naming a bad one. */
  readOptionsOf: (request: FastifyRequest) => ReadOptions;
  withIndexedLsn: (reply: FastifyReply, indexedLsn: number) => FastifyReply;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Where each field of the service's query request is on the wire, for validation messages. */
function wirePath(path: readonly (string | number)[]): readonly (string | number)[] {
  const [root, ...rest] = path;
  switch (root) {
    case 'topK':
      return ['query', 'top_k', ...rest];
    case 'vector':
      return ['query', 'vector', 'values', ...rest];
    case 'sparseVector': {
      const [part, ...tail] = rest;
      if (part === 'indices') return ['query', 'vector', 'sparse_indices', ...tail];
      // The sparse part as a whole (lengths that differ, a non-dotproduct index): named by its values.
      return ['query', 'vector', 'sparse_values', ...(part === 'values' ? tail : rest)];
    }
    case 'id':
    case 'filter':
      return ['query', root, ...rest];
    default:
      return path;
  }
}

const withWirePaths = (error: unknown): unknown => (error instanceof InvalidArgumentError ? error.withPaths(wirePath) : error);

/** What only a hosted model could do: refused before anything else is looked at. */
function refuseModelFeatures(body: Json, query: Json): void {
  if (query.inputs !== undefined) {
    throw new UnimplementedError(
      'query.inputs: searching by text needs an integrated embedding model, which Conifer does not have; send query.vector or query.id',
    );
  }
  if (query.match_terms !== undefined) {
    throw new UnimplementedError(
      'query.match_terms: matching terms needs a sparse index with integrated embedding, which Conifer does not have; use query.filter on metadata',
    );
  }
  if (body.rerank !== undefined) {
    throw new UnimplementedError('rerank: reranking needs a hosted reranking model, which Conifer does not have; send the search without rerank');
  }
}

/** `fields` of the request: absent (every metadata field) or a list of metadata field names. */
function fieldsOf(body: Json): string[] | undefined {
  const { fields } = body;
  if (fields === undefined) return undefined;
  if (!Array.isArray(fields)) throw InvalidArgumentError.at(['fields'], 'must be an array of strings');
  fields.forEach((field, i) => {
    if (typeof field !== 'string') throw InvalidArgumentError.at(['fields', i], 'must be a string');
  });
  return fields as string[];
}

/**
 * The service's query request for a search body: `query.vector.values` is the dense vector,
 * `sparse_indices`/`sparse_values` the sparse part (the whole vector on a sparse index); exactly one
 * of `query.vector` and `query.id`.
 */
function queryInputOf(index: string, namespace: string, query: Json, fields: string[] | undefined): unknown {
  const { vector, id } = query;
  if ((vector === undefined) === (id === undefined)) throw InvalidArgumentError.at(['query'], 'exactly one of query.vector and query.id must be given');
  let values: unknown;
  let sparseVector: unknown;
  if (vector !== undefined) {
    if (!isObject(vector)) throw InvalidArgumentError.at(['query', 'vector'], 'must be an object');
    values = vector.values;
    const { sparse_indices: indices, sparse_values: sparseValues } = vector;
    if (values === undefined && indices === undefined && sparseValues === undefined) {
      throw InvalidArgumentError.at(
        ['query', 'vector'],
        'needs values (a dense index) or sparse_indices and sparse_values (a sparse index, or beside values on dotproduct)',
      );
    }
    if (indices !== undefined || sparseValues !== undefined) {
      if (indices === undefined) throw InvalidArgumentError.at(['query', 'vector', 'sparse_indices'], 'required with query.vector.sparse_values');
      if (sparseValues === undefined) throw InvalidArgumentError.at(['query', 'vector', 'sparse_values'], 'required with query.vector.sparse_indices');
      sparseVector = { indices, values: sparseValues };
    }
  }
  return {
    index,
    namespace,
    topK: query.top_k,
    vector: values,
    sparseVector,
    id,
    filter: query.filter,
    includeValues: false,
    // `fields: []` asks for no field: the metadata is not even read.
    includeMetadata: fields === undefined || fields.length > 0,
  };
}

/** A hit's `fields`: the record's metadata, or the fields of it the request named (those it has). */
function hitFields(metadata: Metadata | undefined, fields: string[] | undefined): Record<string, unknown> {
  if (metadata === undefined) return {};
  if (fields === undefined) return metadata;
  // fromEntries defines own properties: a field named "__proto__" stays an ordinary key.
  return Object.fromEntries(fields.filter((field) => Object.hasOwn(metadata, field)).map((field) => [field, metadata[field]]));
}

const toHit = (fields: string[] | undefined) => (match: ScoredRecord) => ({ _id: match.id, _score: match.score, fields: hitFields(match.metadata, fields) });

/** Registers the records routes on the data plane's scope (see the module comment). */
export function registerRecords(app: FastifyInstance, deps: RecordsRouteDeps): void {
  const { services, indexOf } = deps;

  /** The namespace the path names, checked (a 400 naming `namespace`) whatever the body. */
  const checkNamespace = (request: FastifyRequest): void => {
    const { namespace } = request.params as { namespace: string };
    parseWith(namespaceRefSchema, { index: indexOf(request), namespace });
  };

  // The read-option headers and the namespace are checked as the request arrives, before the body
  // is read: a bad one is named even when the body is bad too (as READ_ROUTE does for /query).
  const onRequest = async (request: FastifyRequest) => {
    deps.readOptionsOf(request);
    checkNamespace(request);
  };

  app.post('/records/namespaces/:namespace/search', { onRequest }, async (request, reply) => {
    const index = indexOf(request);
    const { namespace } = request.params as { namespace: string };
    const body = bodyOf(request);
    if (!isObject(body.query)) throw InvalidArgumentError.at(['query'], 'must be an object');
    refuseModelFeatures(body, body.query);
    const fields = fieldsOf(body);
    let input;
    try {
      input = parseWith(querySchema, queryInputOf(index, namespace, body.query, fields));
    } catch (error) {
      throw withWirePaths(error);
    }
    const result = await services.query(authOf(request), input, deps.readOptionsOf(request)).catch((error: unknown) => {
      throw withWirePaths(error);
    });
    return deps.withIndexedLsn(reply, result.indexedLsn).send({
      result: { hits: result.matches.map(toHit(fields)) },
      namespace: echoNamespace(request, namespace),
      usage: { read_units: result.usage.readUnits },
    });
  });

  // Text records (NDJSON): any body is taken as it comes, so the answer is this refusal, not a
  // complaint that the body is not JSON.
  void app.register(async (scope) => {
    acceptRawBodies(scope);
    scope.post('/records/namespaces/:namespace/upsert', async (request) => {
      // A namespace no one could name is said so first, as on every route that names one.
      checkNamespace(request);
      throw new UnimplementedError(UNSUPPORTED.textRecords);
    });
  });
}
