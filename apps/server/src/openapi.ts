import { FLOAT32_OVERFLOW, LIMITS } from '@conifer/core';
import {
  CLUSTER_JOBS_DEFAULT_LIMIT,
  CLUSTER_JOBS_MAX_LIMIT,
  CLUSTER_NAMESPACES_DEFAULT_LIMIT,
  CLUSTER_NAMESPACES_MAX_LIMIT,
  PINECONE_RATE_LIMITS,
  RATE_LIMIT_NAMES,
} from '@conifer/api';
import { INDEX_JOB_KINDS, INDEX_JOB_STATES } from '@conifer/control';
import { MIN_LSN_PATTERN } from './pinecone/data-routes.ts';

/**
 * The OpenAPI 3.1 document of Conifer's REST surface: the Pinecone-compatible control and data
 * planes and the `/admin` API. Served at `GET /openapi.json`; the same document is checked in as
 * docs/openapi.json (regenerate with `node apps/server/src/write-openapi.ts`; a test keeps the two
 * equal). Written by hand: the wire shapes (snake_case control plane, camelCase data plane) are
 * Pinecone's, not those of the internal schemas.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const ok = (description: string, schema?: Schema) => (schema ? { description, content: json(schema) } : { description });

const responseRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` });

/** Error responses shared by every operation, defined once under `components.responses`. */
const controlErrorResponses: Record<string, [name: string, description: string]> = {
  '400': ['ControlInvalidArgument', 'Invalid argument'],
  '401': ['ControlUnauthenticated', 'Missing or invalid API key'],
  '403': ['ControlForbidden', 'The key’s role does not allow this, or deletion protection is on'],
  '404': ['ControlNotFound', 'Not found (also: an index of another project)'],
  '422': ['ControlUnprocessable', 'The body is not JSON'],
  '429': ['ControlTooManyRequests', 'Rate limit exceeded'],
  '500': ['ControlInternal', 'Internal error'],
};
const dataErrorResponses: Record<string, [name: string, description: string]> = {
  '400': ['DataInvalidArgument', 'Invalid argument (e.g. a vector of the wrong dimension)'],
  '401': ['DataUnauthenticated', 'Missing or invalid API key'],
  '403': ['DataForbidden', 'Read-only key on a write'],
  '404': ['DataNotFound', 'Index (or namespace) not found; also an index of another project'],
  '429': ['DataTooManyRequests', 'Rate limit exceeded'],
  '500': ['DataInternal', 'Internal error'],
};
/**
 * 431 comes from Node's HTTP parser, before any route runs, so it has Fastify's shape rather than
 * either plane's: a request line and headers over `MAX_HEADER_BYTES` (apps/server/src/http.ts),
 * which the largest fetch the limits allow fits.
 */
const headersTooLarge = { '431': responseRef('HeadersTooLarge') };
const refs = (table: Record<string, [string, string]>) => Object.fromEntries(Object.entries(table).map(([status, [name]]) => [status, responseRef(name)]));
const controlErrors = { ...refs(controlErrorResponses), ...headersTooLarge };
const dataErrors = { ...refs(dataErrorResponses), ...headersTooLarge };
const sharedResponses = {
  ...Object.fromEntries(Object.values(controlErrorResponses).map(([name, description]) => [name, ok(description, ref('ErrorResponse'))])),
  ...Object.fromEntries(Object.values(dataErrorResponses).map(([name, description]) => [name, ok(description, ref('RpcStatus'))])),
  HeadersTooLarge: ok('Request line and headers too large (answered by the HTTP parser, before routing)', ref('HttpParserError')),
  DataReadUnavailable: ok('The node could not reach the `x-conifer-min-lsn` asked for in time; retry', ref('RpcStatus')),
};

const lsnHeader = {
  'x-pinecone-request-lsn': { description: 'Log sequence number the write was durably logged at, in its namespace.', schema: { type: 'string' } },
};

/** What every record read answers: the LSN it reflects. */
const indexedLsnHeader = {
  'x-pinecone-max-indexed-lsn': {
    description: 'The LSN of the namespace this read reflects: every write at or below it (its `x-pinecone-request-lsn`) is visible, later ones are not.',
    schema: { type: 'string' },
  },
};
/** How fresh a record read must be (Conifer's request headers); see docs/api.md, "Read consistency". */
const readHeaders = [
  {
    name: 'x-conifer-consistency',
    in: 'header',
    description:
      '`eventual` (the default): the serving node’s state as it is; `strong`: the latest state. A single server always answers with every acknowledged write.',
    schema: { type: 'string', enum: ['eventual', 'strong'] },
  },
  {
    name: 'x-conifer-min-lsn',
    in: 'header',
    description: 'Read-your-writes: the `x-pinecone-request-lsn` of a write this read must reflect, in decimal; 503 when the node cannot reach it in time.',
    schema: { type: 'string', pattern: MIN_LSN_PATTERN },
  },
];
/** The success and the 503 of a record read. */
const readResponses = (description: string, schema: Schema): Schema => ({
  '200': { ...ok(description, schema), headers: indexedLsnHeader },
  '503': responseRef('DataReadUnavailable'),
});

const dataPrefix = '/projects/{projectId}/indexes/{indexName}';
const indexParams = [
  { name: 'projectId', in: 'path', required: true, description: 'Project of the index (part of its `host`).', schema: { type: 'string' } },
  { name: 'indexName', in: 'path', required: true, schema: { type: 'string' } },
];

/** Record ids: ASCII without NUL (Pinecone's rule). */
const recordId: Schema = { type: 'string', minLength: LIMITS.minIdLength, maxLength: LIMITS.maxIdLength, pattern: '^[\\u0001-\\u007f]*$' };
/**
 * Namespace names: printable ASCII and not only spaces (Pinecone's rule); `""` and `"__default__"`
 * name the default namespace where a namespace may be omitted.
 */
const namespaceName: Schema = {
  type: 'string',
  maxLength: LIMITS.maxNamespaceLength,
  pattern: '^(|[ -~]*[!-~][ -~]*)$',
  description: 'Printable ASCII, not only spaces; `""` or `"__default__"` is the default namespace.',
};
const newNamespaceName: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.maxNamespaceLength,
  pattern: '^[ -~]*[!-~][ -~]*$',
  description: 'Printable ASCII, not only spaces.',
};
const namespacePath = {
  name: 'namespace',
  in: 'path',
  required: true,
  schema: { ...newNamespaceName, description: 'The namespace; `__default__` is the default one.' },
};
const query = (name: string, schema: Schema, description?: string, extra: Schema = {}) => ({
  name,
  in: 'query',
  schema,
  ...(description ? { description } : {}),
  ...extra,
});
const namespaceQuery = query('namespace', namespaceName, 'Namespace; `""` or `"__default__"` is the default namespace.');
/** Page tokens are opaque: only a `pagination.next` of an earlier page is accepted. */
const paginationToken: Schema = { type: 'string', maxLength: 2048, description: 'The `pagination.next` of the previous page.' };

function dataOp(operationId: string, summary: string, spec: Schema): Schema {
  return { operationId, summary, tags: ['Data plane'], parameters: indexParams, ...spec, responses: { ...(spec.responses as Schema), ...dataErrors } };
}

function controlOp(operationId: string, summary: string, spec: Schema, tag = 'Control plane'): Schema {
  return { operationId, summary, tags: [tag], ...spec, responses: { ...(spec.responses as Schema), ...controlErrors } };
}

/**
 * A JSON number a double can hold: larger ones parse to Infinity and are refused. No `maximum`:
 * the exact bound (2^1024 − 2^970, which rounds up) is not a double, and any double below it would
 * refuse numbers the server reads as finite.
 */
const finiteNumber: Schema = { type: 'number', description: 'Finite as a double (magnitude below about 1.8e308).' };
/** A number that stays finite as a float32 (3.4028235e38, the largest float32 as written back, included). */
const float32: Schema = { type: 'number', exclusiveMinimum: -FLOAT32_OVERFLOW, exclusiveMaximum: FLOAT32_OVERFLOW };
const denseValues: Schema = {
  type: 'array',
  maxItems: LIMITS.maxDimension,
  items: float32,
  description:
    'Exactly the index’s dimension (empty or absent on a sparse index); stored as float32, returned as the shortest decimal that reads back as the same float32.',
};
const metadata: Schema = {
  type: 'object',
  description: `Flat object of strings, numbers, booleans and lists of strings; keys not empty, not starting with "$" and not "__proto__"; at most ${LIMITS.maxMetadataBytes} bytes as JSON.`,
  propertyNames: { minLength: 1, pattern: '^[^$]' },
  additionalProperties: { oneOf: [{ type: 'string' }, finiteNumber, { type: 'boolean' }, { type: 'array', items: { type: 'string' } }] },
};
const filter = ref('Filter');
const usage: Schema = {
  type: 'object',
  required: ['readUnits'],
  properties: { readUnits: { type: 'integer', description: 'Read units of the request, rounded up.' } },
};
const pagination: Schema = { type: 'object', required: ['next'], properties: { next: { type: 'string' } }, description: 'Absent on the last page.' };
const dimension: Schema = { type: 'integer', minimum: LIMITS.minDimension, maximum: LIMITS.maxDimension };
const metric: Schema = { type: 'string', enum: ['cosine', 'euclidean', 'dotproduct'] };
const tags: Schema = {
  type: 'object',
  propertyNames: { minLength: 1, maxLength: LIMITS.maxTagKeyLength, pattern: '^[A-Za-z0-9_-]+$' },
  additionalProperties: { type: 'string', maxLength: LIMITS.maxTagValueLength, pattern: '^[^\\u0000]*$' },
};
/** Pinecone's generated clients send `null` for an optional field they leave unset; it means absent. */
const nullable = (schema: Schema): Schema => ({
  ...schema,
  type: [schema.type as string, 'null'],
  ...(schema.enum ? { enum: [...(schema.enum as unknown[]), null] } : {}),
});
/** `cloud` and `region`: labels, echoed back. */
const label: Schema = { type: 'string', maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' };
const readCapacity: Schema = nullable({
  type: 'object',
  properties: { mode: { enum: ['OnDemand', null] } },
  description: 'Only on-demand read capacity (`{"mode": "OnDemand"}`).',
});
/** What String.prototype.trim removes (ECMAScript's WhiteSpace and LineTerminator), as a regex class body. */
const JS_WHITESPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const adminName: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: `^[^\\u0000]*[^${JS_WHITESPACE}\\u0000][^\\u0000]*$`,
  description: 'Trimmed; not blank; no NUL.',
};
const day: Schema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', format: 'date' };
const indexName: Schema = { type: 'string', maxLength: LIMITS.maxIndexNameLength, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' };
/** Requests (or bytes, or units) per second; 0 = unlimited. */
const rate: Schema = { type: 'number', minimum: 0, maximum: 1e12 };
const rateLimits: Schema = { type: 'object', required: [...RATE_LIMIT_NAMES], properties: Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, rate])) };

/** What both forms of a records search's `query` have; `inputs` and `match_terms` need a hosted model. */
const searchQuery: Schema = {
  top_k: { type: 'integer', minimum: LIMITS.minTopK, maximum: LIMITS.maxTopK },
  filter,
  inputs: false,
  match_terms: false,
};

const nullableString: Schema = { type: ['string', 'null'] };
const nullableInteger: Schema = { type: ['integer', 'null'] };
const clusterNodeRef: Schema = { type: 'object', required: ['id', 'url'], properties: { id: { type: 'string' }, url: { type: 'string' } } };

const schemas: Record<string, Schema> = {
  ErrorResponse: {
    type: 'object',
    description: 'Control-plane and admin error.',
    required: ['error', 'status'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
            enum: [
              'INVALID_ARGUMENT',
              'UNAUTHENTICATED',
              'PERMISSION_DENIED',
              'FORBIDDEN',
              'NOT_FOUND',
              'ALREADY_EXISTS',
              'FAILED_PRECONDITION',
              'UNPROCESSABLE_ENTITY',
              'RESOURCE_EXHAUSTED',
              'UNIMPLEMENTED',
              'UNAVAILABLE',
              'INTERNAL',
            ],
          },
          message: { type: 'string' },
        },
      },
      status: { type: 'integer' },
    },
  },
  HttpParserError: {
    type: 'object',
    description: 'An error of the HTTP parser, before routing (Fastify’s shape).',
    required: ['error', 'message', 'statusCode'],
    properties: { error: { type: 'string' }, message: { type: 'string' }, statusCode: { type: 'integer' } },
  },
  RpcStatus: {
    type: 'object',
    description:
      'Data-plane error: gRPC status code (3 invalid argument, 5 not found, 6 already exists, 7 permission denied, 8 resource exhausted, 12 unimplemented, 13 internal, 14 unavailable, 16 unauthenticated).',
    required: ['code', 'message', 'details'],
    properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object' } } },
  },
  IndexModel: {
    type: 'object',
    required: ['name', 'metric', 'host', 'spec', 'status', 'vector_type'],
    properties: {
      name: { type: 'string' },
      dimension: { ...dimension, description: 'Absent for a sparse index.' },
      metric,
      host: { type: 'string', description: 'Base URL of the index’s data plane, with its scheme: `http://<server>/projects/<projectId>/indexes/<name>`.' },
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] },
      tags,
      spec: {
        type: 'object',
        properties: {
          serverless: {
            type: 'object',
            required: ['cloud', 'region', 'read_capacity'],
            properties: {
              cloud: { type: 'string' },
              region: { type: 'string' },
              read_capacity: {
                type: 'object',
                properties: { mode: { const: 'OnDemand' }, status: { type: 'object', properties: { state: { const: 'Ready' } } } },
              },
            },
          },
        },
      },
      status: {
        type: 'object',
        required: ['ready', 'state'],
        properties: { ready: { type: 'boolean' }, state: { type: 'string', enum: ['Ready', 'Terminating'] } },
      },
      vector_type: { type: 'string', enum: ['dense', 'sparse'] },
    },
  },
  CreateIndexRequest: {
    type: 'object',
    required: ['name'],
    // A sparse index has no dimension and only dotproduct; a dense one needs its dimension.
    if: { required: ['vector_type'], properties: { vector_type: { const: 'sparse' } } },
    then: { properties: { dimension: { type: 'null' }, metric: { enum: ['dotproduct', null] } } },
    else: { required: ['dimension'], properties: { dimension } },
    description:
      'Serverless indexes: dense (`dimension` required; metric default cosine) or sparse-only (`vector_type: "sparse"`, no dimension, metric dotproduct, the default). `spec.pod`, `spec.byoc` (or a 2026-07 `deployment_type` `pod` or `byoc`), a `source_collection` and `Dedicated` read capacity are refused with 400 UNIMPLEMENTED. Clients of API 2026-07 may send `deployment` and `schema.fields._values` (or `_sparse_values` with `type: "sparse_vector"`) instead of `dimension`, `metric` and `spec`. `null` means absent.',
    properties: {
      name: indexName,
      dimension: nullable(dimension),
      metric: nullable(metric),
      deletion_protection: nullable({ type: 'string', enum: ['enabled', 'disabled'], default: 'disabled' }),
      tags: nullable(tags),
      vector_type: nullable({ type: 'string', enum: ['dense', 'sparse'], default: 'dense' }),
      spec: nullable({
        type: 'object',
        properties: { serverless: nullable({ type: 'object', properties: { cloud: nullable(label), region: nullable(label), read_capacity: readCapacity } }) },
      }),
    },
  },
  ConfigureIndexRequest: {
    type: 'object',
    description:
      'An empty body changes nothing. Pod specs, integrated embedding (`embed`) and `Dedicated` read capacity are refused with 400 UNIMPLEMENTED. `null` means unchanged.',
    properties: {
      deletion_protection: nullable({ type: 'string', enum: ['enabled', 'disabled'] }),
      tags: nullable({ ...tags, description: 'Merged into the current tags; a tag set to "" is removed.' }),
      spec: nullable({ type: 'object', properties: { serverless: nullable({ type: 'object', properties: { read_capacity: readCapacity } }) } }),
    },
  },
  IndexList: { type: 'object', required: ['indexes'], properties: { indexes: { type: 'array', items: ref('IndexModel') } } },
  SparseValues: {
    type: 'object',
    required: ['indices', 'values'],
    description: `Arrays of the same length; unique unsigned 32-bit indices; at most ${LIMITS.maxSparseValues} entries.`,
    properties: {
      indices: { type: 'array', maxItems: LIMITS.maxSparseValues, uniqueItems: true, items: { type: 'integer', minimum: 0, maximum: LIMITS.maxSparseIndex } },
      values: { type: 'array', maxItems: LIMITS.maxSparseValues, items: float32 },
    },
  },
  Vector: {
    type: 'object',
    required: ['id'],
    description: 'A dense index’s records carry `values` of its dimension (and a sparse part on dotproduct); a sparse index’s carry `sparseValues` only.',
    properties: { id: recordId, values: denseValues, sparseValues: ref('SparseValues'), metadata },
  },
  ScoredVector: {
    type: 'object',
    required: ['id', 'score'],
    properties: {
      id: { type: 'string' },
      score: { type: 'number' },
      values: { type: 'array', items: { type: 'number' } },
      sparseValues: ref('SparseValues'),
      metadata,
    },
  },
  UpsertRequest: {
    type: 'object',
    required: ['vectors'],
    description: `At most ${LIMITS.maxRequestBytes} bytes of JSON.`,
    properties: { vectors: { type: 'array', minItems: 1, maxItems: LIMITS.maxUpsertRecords, items: ref('Vector') }, namespace: namespaceName },
  },
  UpsertResponse: { type: 'object', required: ['upsertedCount'], properties: { upsertedCount: { type: 'integer' } } },
  QueryRequest: {
    type: 'object',
    required: ['topK'],
    description:
      'Exactly one of `vector` and `id`; `sparseVector` adds a sparse part (dotproduct indexes only): score = dense·dense + sparse·sparse. A sparse index is queried by `sparseVector` alone (or `id`): the records sharing a dimension with it, by dot product.',
    oneOf: [{ required: ['vector'] }, { required: ['id'] }, { required: ['sparseVector'], not: { anyOf: [{ required: ['vector'] }, { required: ['id'] }] } }],
    properties: {
      namespace: namespaceName,
      topK: { type: 'integer', minimum: LIMITS.minTopK, maximum: LIMITS.maxTopK },
      filter,
      includeValues: { type: 'boolean', default: false },
      includeMetadata: { type: 'boolean', default: false },
      vector: denseValues,
      sparseVector: ref('SparseValues'),
      id: { ...recordId, description: 'Query with this record’s vector; an unknown id gives no matches.' },
    },
  },
  QueryResponse: {
    type: 'object',
    required: ['matches', 'namespace', 'usage'],
    properties: { matches: { type: 'array', items: ref('ScoredVector') }, namespace: { type: 'string' }, usage },
  },
  SearchRecordsRequest: {
    type: 'object',
    required: ['query'],
    description:
      'Pinecone’s records search (API 2025-04 and later), by vector or by a record’s id; a `/query` underneath, with its limits, filters and read units. What needs a hosted model — `query.inputs` (text), `query.match_terms` and `rerank` — is refused with 400 UNIMPLEMENTED.',
    properties: {
      query: { description: 'Exactly one of `vector` and `id`.', oneOf: [ref('SearchQueryByVector'), ref('SearchQueryById')] },
      fields: {
        type: 'array',
        items: { type: 'string' },
        description: 'The metadata fields each hit returns (those it has); absent: all of them; `[]`: none.',
      },
      rerank: false,
    },
  },
  // Two whole schemas rather than `oneOf` of `required` lists inside `query`: Schemathesis's
  // coverage phase cannot build a valid body from the latter (it sends a negative one instead).
  SearchQueryByVector: {
    type: 'object',
    required: ['top_k', 'vector'],
    properties: { ...searchQuery, vector: ref('SearchRecordsVector'), id: false },
  },
  SearchQueryById: {
    type: 'object',
    required: ['top_k', 'id'],
    properties: { ...searchQuery, id: { ...recordId, description: 'Search with this record’s vector; an unknown id gives no hits.' }, vector: false },
  },
  SearchRecordsVector: {
    type: 'object',
    description:
      'Dense `values`, plus a sparse part (`sparse_indices` with `sparse_values`, of the same length) on dotproduct indexes: hybrid search. On a sparse index, the sparse part alone.',
    anyOf: [{ required: ['values'] }, { required: ['sparse_values'] }],
    dependentRequired: { sparse_indices: ['sparse_values'], sparse_values: ['sparse_indices'] },
    properties: {
      values: denseValues,
      sparse_indices: {
        type: 'array',
        maxItems: LIMITS.maxSparseValues,
        uniqueItems: true,
        items: { type: 'integer', minimum: 0, maximum: LIMITS.maxSparseIndex },
      },
      sparse_values: { type: 'array', maxItems: LIMITS.maxSparseValues, items: float32 },
    },
  },
  SearchRecordsResponse: {
    type: 'object',
    required: ['result', 'namespace', 'usage'],
    properties: {
      result: { type: 'object', required: ['hits'], properties: { hits: { type: 'array', items: ref('Hit'), description: 'Best first.' } } },
      namespace: { type: 'string', description: 'The namespace the path named.' },
      usage: {
        type: 'object',
        required: ['read_units'],
        properties: { read_units: { type: 'integer', description: 'Read units of the request, rounded up.' } },
      },
    },
  },
  Hit: {
    type: 'object',
    required: ['_id', '_score', 'fields'],
    properties: {
      _id: { type: 'string' },
      _score: { type: 'number' },
      fields: { ...metadata, description: 'The record’s metadata, or the fields of it the request named; `{}` when it has none.' },
    },
  },
  FetchResponse: {
    type: 'object',
    required: ['vectors', 'namespace', 'usage'],
    properties: {
      vectors: { type: 'object', additionalProperties: ref('Vector'), description: 'By id; missing ids are left out.' },
      namespace: { type: 'string' },
      usage,
    },
  },
  FetchByMetadataRequest: {
    type: 'object',
    required: ['filter'],
    properties: {
      namespace: namespaceName,
      filter,
      limit: { type: 'integer', minimum: 1, maximum: LIMITS.maxFetchByMetadataLimit, default: LIMITS.defaultFetchByMetadataLimit },
      paginationToken,
    },
  },
  FetchByMetadataResponse: {
    type: 'object',
    required: ['vectors', 'namespace', 'usage'],
    properties: { vectors: { type: 'object', additionalProperties: ref('Vector') }, namespace: { type: 'string' }, pagination, usage },
  },
  UpdateRequest: {
    type: 'object',
    description: 'Exactly one of `id` and `filter`; at least one of `values`, `sparseValues`, `setMetadata`. Metadata is merged.',
    allOf: [
      { oneOf: [{ required: ['id'] }, { required: ['filter'] }] },
      { anyOf: [{ required: ['values'] }, { required: ['sparseValues'] }, { required: ['setMetadata'] }] },
    ],
    properties: {
      id: recordId,
      filter,
      values: denseValues,
      sparseValues: ref('SparseValues'),
      setMetadata: metadata,
      namespace: namespaceName,
      dryRun: { type: 'boolean', description: 'Count the matching records without changing them.' },
    },
  },
  UpdateResponse: { type: 'object', required: ['matchedRecords'], properties: { matchedRecords: { type: 'integer' } } },
  DeleteRequest: {
    type: 'object',
    description: 'Exactly one of `ids`, `deleteAll: true` and `filter`.',
    oneOf: [{ required: ['ids'] }, { required: ['deleteAll'], properties: { deleteAll: { const: true } } }, { required: ['filter'] }],
    properties: {
      ids: { type: 'array', minItems: 1, maxItems: LIMITS.maxIdsPerRequest, items: recordId },
      deleteAll: { type: 'boolean' },
      filter,
      namespace: namespaceName,
    },
  },
  Empty: { type: 'object', description: 'Always `{}`.' },
  ListResponse: {
    type: 'object',
    required: ['vectors', 'namespace', 'usage'],
    properties: {
      vectors: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
      pagination,
      namespace: { type: 'string', description: 'The namespace the request named.' },
      usage,
    },
  },
  DescribeIndexStatsResponse: {
    type: 'object',
    required: ['namespaces', 'indexFullness', 'totalVectorCount', 'metric', 'vectorType'],
    properties: {
      namespaces: {
        type: 'object',
        description: 'Namespaces holding records; the default one under "__default__" (API ≥ 2025-04) or "" (older).',
        additionalProperties: { type: 'object', required: ['vectorCount'], properties: { vectorCount: { type: 'integer' } } },
      },
      dimension: { ...dimension, description: 'Absent for a sparse index.' },
      indexFullness: { type: 'number' },
      totalVectorCount: { type: 'integer' },
      metric,
      vectorType: { type: 'string', enum: ['dense', 'sparse'] },
    },
  },
  NamespaceDescription: {
    type: 'object',
    required: ['name', 'record_count'],
    properties: {
      name: { type: 'string' },
      record_count: { type: 'integer' },
      schema: {
        ...ref('NamespaceFields'),
        description:
          'The metadata schema the namespace was created with, as stored (a field without `filterable` is not filterable); absent when it has none (then every field is indexed).',
      },
      indexed_fields: {
        type: 'object',
        description: 'The fields the schema indexes (its `filterable: true` ones), in name order; absent when the namespace has no schema.',
        required: ['fields'],
        properties: { fields: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
  StartImportRequest: {
    type: 'object',
    required: ['uri'],
    properties: {
      uri: {
        type: 'string',
        minLength: 1,
        maxLength: 1500,
        pattern: '^((s3|gs|az)://[^/]|https://[^/]+\\.blob\\.core\\.windows\\.net/|file://)[^\\u0000-\\u001f\\u007f]*$',
        description:
          'The import directory: `s3://bucket/dir`, `gs://bucket/dir`, `az://container/dir` or `https://<account>.blob.core.windows.net/container/dir`, read with the server’s own cloud credentials; `file:///dir` when `CONIFER_IMPORT_FILE_URIS=true`. It holds one directory per namespace (`__default__` for the default one) of Parquet files with columns `id`, `values`, optional `sparse_values` and `metadata` (a JSON string).',
      },
      integrationId: {
        not: {},
        description: 'Storage integrations are not supported: any value answers 400 (the server reads the URI with its own credentials).',
      },
      errorMode: {
        type: 'object',
        properties: {
          onError: {
            type: 'string',
            enum: ['abort', 'continue'],
            description:
              '`abort`: the first bad row or file fails the import before any namespace is created. `continue` (default): bad rows, unreadable files and namespaces that exist are skipped.',
          },
        },
      },
    },
  },
  StartImportResponse: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 1000 } } },
  ImportModel: {
    type: 'object',
    required: ['id', 'uri', 'status', 'createdAt', 'percentComplete', 'recordsImported'],
    properties: {
      id: { type: 'string' },
      uri: { type: 'string' },
      status: { type: 'string', enum: ['Pending', 'InProgress', 'Failed', 'Completed', 'Cancelled'] },
      createdAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      percentComplete: { type: 'number', minimum: 0, maximum: 100 },
      recordsImported: { type: 'integer', minimum: 0 },
      error: {
        type: 'string',
        description: 'Why the import failed; on a completed import with `continue`, how many records were skipped and the first problem.',
      },
    },
  },
  ListImportsResponse: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('ImportModel') }, pagination } },
  CreateBackupRequest: {
    type: 'object',
    properties: {
      name: nullable({ type: 'string', maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'A name of your own; need not be unique.' }),
      description: nullable({ type: 'string', maxLength: 1000, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
    },
  },
  BackupModel: {
    type: 'object',
    required: ['backup_id', 'source_index_name', 'source_index_id', 'status', 'cloud', 'region'],
    properties: {
      backup_id: { type: 'string', format: 'uuid', description: 'A UUID (version 7: ids sort by creation time).' },
      source_index_name: { type: 'string' },
      source_index_id: { type: 'string' },
      source_index_deleted_at: { type: 'string', format: 'date-time', description: 'Present only once the source index has been deleted.' },
      name: { type: 'string' },
      description: { type: 'string' },
      status: { type: 'string', enum: ['Initializing', 'Ready', 'Failed'] },
      cloud: { type: 'string' },
      region: { type: 'string' },
      dimension: { type: 'integer' },
      metric,
      record_count: { type: 'integer', minimum: 0 },
      namespace_count: { type: 'integer', minimum: 0 },
      size_bytes: { type: 'integer', minimum: 0, description: 'Bytes of the slabs the backup references (kept alive, not copied: docs/operations.md).' },
      tags: { ...tags, description: 'The source index’s tags when the backup was taken.' },
      created_at: { type: 'string', format: 'date-time' },
    },
  },
  BackupList: { type: 'object', properties: { data: { type: 'array', items: ref('BackupModel') }, pagination } },
  CreateIndexFromBackupRequest: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 45, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' },
      tags,
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] },
    },
  },
  CreateIndexFromBackupResponse: {
    type: 'object',
    required: ['restore_job_id', 'index_id'],
    properties: { restore_job_id: { type: 'string', format: 'uuid' }, index_id: { type: 'string' } },
  },
  RestoreJobModel: {
    type: 'object',
    required: ['restore_job_id', 'backup_id', 'target_index_name', 'target_index_id', 'status', 'created_at'],
    properties: {
      restore_job_id: { type: 'string', format: 'uuid' },
      backup_id: { type: 'string' },
      target_index_name: { type: 'string' },
      target_index_id: { type: 'string' },
      status: { type: 'string', enum: ['Pending', 'InProgress', 'Completed', 'Failed'] },
      created_at: { type: 'string', format: 'date-time' },
      completed_at: { type: 'string', format: 'date-time', description: 'Absent while the job runs.' },
      percent_complete: { type: 'number', minimum: 0, maximum: 100, description: 'By the bytes of slabs copied.' },
    },
  },
  RestoreJobList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('RestoreJobModel') }, pagination } },
  ListNamespacesResponse: {
    type: 'object',
    required: ['namespaces', 'total_count'],
    properties: { namespaces: { type: 'array', items: ref('NamespaceDescription') }, pagination, total_count: { type: 'integer' } },
  },
  CreateNamespaceRequest: {
    type: 'object',
    required: ['name'],
    properties: {
      name: {
        ...newNamespaceName,
        not: { const: '__default__' },
        description: 'Printable ASCII, not only spaces; not `__default__` (the default namespace always exists).',
      },
      schema: {
        ...ref('NamespaceFields'),
        description:
          'Stored with the namespace: only the fields marked `filterable: true` are indexed, and a filter (query, fetch by metadata, update or delete by filter) naming any other field answers 400. Without it, every field is indexed.',
      },
    },
  },
  NamespaceFields: {
    type: 'object',
    description:
      'Which metadata fields are indexed (filterable): `{"fields": {"genre": {"filterable": true}}}`. Field names are metadata keys: not empty, not starting with `$`, not `__proto__`, no NUL.',
    required: ['fields'],
    properties: {
      fields: {
        type: 'object',
        propertyNames: { minLength: 1, pattern: '^[^$\\u0000][^\\u0000]*$' },
        additionalProperties: { type: 'object', properties: { filterable: { type: 'boolean' } } },
      },
    },
  },
  Filter: {
    type: 'object',
    description:
      'Metadata filter: fields with a value (`{"f": v}` means `{"f": {"$eq": v}}`) or an object of operators (`$eq $ne $gt $gte $lt $lte $in $nin $exists`), and `$and` / `$or` over non-empty filters. Several fields are an implicit AND. In a namespace created with a `schema`, only the fields it marks `filterable: true` may be named (any other is a 400).',
    properties: { $and: ref('FilterList'), $or: ref('FilterList') },
    patternProperties: { '^$|^[^$]': ref('FieldCondition') },
    additionalProperties: false,
  },
  FilterList: { type: 'array', minItems: 1, items: { allOf: [ref('Filter')], minProperties: 1 } },
  FieldCondition: { oneOf: [ref('FilterValue'), ref('FieldOperators')] },
  FilterValue: { oneOf: [{ type: 'string' }, finiteNumber, { type: 'boolean' }] },
  FieldOperators: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      $eq: ref('FilterValue'),
      $ne: ref('FilterValue'),
      $gt: finiteNumber,
      $gte: finiteNumber,
      $lt: finiteNumber,
      $lte: finiteNumber,
      $in: { type: 'array', maxItems: LIMITS.maxInValues, items: ref('FilterValue') },
      $nin: { type: 'array', maxItems: LIMITS.maxInValues, items: ref('FilterValue') },
      $exists: { type: 'boolean' },
    },
  },
  RateLimitOverrides: {
    type: 'object',
    description: 'Some limits, by name; each replaces the node’s (0 = unlimited). Unknown names are refused.',
    additionalProperties: false,
    properties: Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, rate])),
  },
  RateLimitsView: {
    type: 'object',
    required: ['projectId', 'node', 'projectOverrides', 'effective'],
    properties: {
      projectId: { type: 'string' },
      index: { type: 'string', description: 'The index, in a view of one.' },
      node: { ...rateLimits, description: 'The node’s own limits (CONIFER_RATE_*).' },
      projectOverrides: ref('RateLimitOverrides'),
      indexOverrides: { ...ref('RateLimitOverrides'), description: 'In a view of an index.' },
      effective: { ...rateLimits, description: 'What applies: to this index, or to the project’s indexes that set none of their own.' },
    },
  },
  Project: {
    type: 'object',
    required: ['id', 'name', 'createdAt'],
    properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
  },
  ApiKey: {
    type: 'object',
    description: 'An API key as listed: never the secret, nor its hash.',
    required: ['id', 'projectId', 'name', 'role', 'displayPrefix', 'createdAt', 'lastUsedAt', 'revokedAt'],
    properties: {
      id: { type: 'string' },
      projectId: { type: 'string' },
      name: { type: 'string' },
      role: ref('Role'),
      displayPrefix: { type: 'string', description: 'First 8 characters of the key.' },
      createdAt: { type: 'string', format: 'date-time' },
      lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  Role: { type: 'string', enum: ['admin', 'read-write', 'read-only'] },
  UsageDay: {
    type: 'object',
    required: ['day', 'indexId', 'indexName', 'readUnits', 'writeUnits', 'requests'],
    properties: {
      day: { type: 'string', format: 'date' },
      indexId: { type: 'string' },
      indexName: { type: 'string' },
      readUnits: { type: 'number' },
      writeUnits: { type: 'number' },
      requests: { type: 'integer' },
    },
  },
  UsageReport: {
    type: 'object',
    required: ['from', 'to', 'days', 'total'],
    properties: {
      from: { type: 'string', format: 'date' },
      to: { type: 'string', format: 'date' },
      days: { type: 'array', items: ref('UsageDay') },
      total: { type: 'object', properties: { readUnits: { type: 'number' }, writeUnits: { type: 'number' }, requests: { type: 'integer' } } },
    },
  },
  ClusterJob: {
    type: 'object',
    description: 'An index build (compaction or ANN index) a writer queued in PostgreSQL for an indexer.',
    required: [
      'id',
      'indexId',
      'index',
      'projectId',
      'namespace',
      'kind',
      'state',
      'attempts',
      'inputs',
      'baseVersion',
      'writerEpoch',
      'claimedBy',
      'heartbeatAt',
      'error',
      'createdAt',
      'updatedAt',
      'ageMs',
    ],
    properties: {
      id: { type: 'string' },
      indexId: { type: 'string' },
      index: { ...nullableString, description: 'The index’s name; null once it is deleted.' },
      projectId: nullableString,
      namespace: { type: 'string', description: '`""` is the default namespace.' },
      kind: { type: 'string', enum: [...INDEX_JOB_KINDS] },
      state: { type: 'string', enum: [...INDEX_JOB_STATES] },
      attempts: { type: 'integer', description: 'Claims so far.' },
      inputs: { type: 'array', items: { type: 'string' }, description: 'Slab ids the build reads.' },
      baseVersion: { type: 'integer', description: 'Manifest version it was planned against.' },
      writerEpoch: { type: 'integer' },
      claimedBy: { ...nullableString, description: 'The node holding (or that last held) the claim.' },
      heartbeatAt: { type: ['string', 'null'], format: 'date-time' },
      error: { ...nullableString, description: 'The last failure reported.' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      ageMs: { type: 'integer', description: 'Time since it was queued.' },
    },
  },
  ClusterNamespace: {
    type: 'object',
    description: 'Where one namespace lives. Fields a node could not describe are null, and `error` says why.',
    required: [
      'namespace',
      'recordCount',
      'writer',
      'writerEpoch',
      'manifestVersion',
      'writtenLsn',
      'flushedLsn',
      'takenOver',
      'query',
      'appliedLsn',
      'lagLsn',
    ],
    properties: {
      namespace: { type: 'string', description: '`""` is the default namespace.' },
      recordCount: { type: 'integer' },
      writer: { oneOf: [clusterNodeRef, { type: 'null' }], description: 'The owner writer (this node in the single process).' },
      writerEpoch: nullableInteger,
      manifestVersion: nullableInteger,
      writtenLsn: { ...nullableInteger, description: 'Highest LSN the writer durably logged.' },
      flushedLsn: { ...nullableInteger, description: 'Highest LSN in the slabs of its manifest.' },
      takenOver: { type: ['boolean', 'null'], description: 'The writer has committed its epoch; false until its next write after a change of owner.' },
      query: { oneOf: [clusterNodeRef, { type: 'null' }], description: 'The query node serving its reads; null when there is none (the writer serves them).' },
      appliedLsn: { ...nullableInteger, description: 'The LSN the query node’s replica has applied.' },
      lagLsn: { ...nullableInteger, description: '`writtenLsn - appliedLsn`, at least 0.' },
      error: { type: 'string' },
    },
  },
};

const rateLimitProject = { name: 'projectId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } };

/** Reading and replacing the rate-limit overrides of a project or of one of its indexes. */
function rateLimitPaths(scope: 'Project' | 'Index', parameters: Schema[]): Schema {
  const of = scope === 'Project' ? 'a project' : 'an index';
  return {
    parameters,
    get: controlOp(
      `get${scope}RateLimits`,
      `The rate limits of ${of}: the node’s, the overrides and what applies (admin keys of the project, or operator keys)`,
      {
        responses: { '200': ok('Rate limits', ref('RateLimitsView')) },
      },
      'Admin',
    ),
    put: controlOp(
      `set${scope}RateLimits`,
      `Replace the rate-limit overrides of ${of} (operator admin keys only); \`{}\` removes them`,
      {
        requestBody: { required: false, description: 'No body is `{}`.', content: json(ref('RateLimitOverrides')) },
        responses: { '200': ok('Rate limits after the change', ref('RateLimitsView')) },
      },
      'Admin',
    ),
  };
}

/** Backups and restore jobs (docs/adr/0010-backups.md): single-node servers; a cluster node answers 412 FAILED_PRECONDITION. */
function backupPaths(): Record<string, Schema> {
  const page = [query('limit', { type: 'integer', minimum: 1, maximum: 100, default: 10 }), query('paginationToken', paginationToken)];
  const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 100 } });
  const tag = 'Backups';
  const busy = { '412': ok('A restore from the backup is still running, or the backup is still being created', ref('ErrorResponse')) };
  return {
    '/indexes/{indexName}/backups': {
      parameters: [{ name: 'indexName', in: 'path', required: true, schema: { type: 'string' } }],
      get: controlOp(
        'listIndexBackups',
        'The index’s backups, oldest first, one page at a time',
        {
          parameters: [
            ...page,
            query('include_deleted', { type: 'boolean', default: false }, 'Also the backups of deleted indexes that had this name (no live index needed).'),
          ],
          responses: { '200': ok('One page of backups', ref('BackupList')) },
        },
        tag,
      ),
      post: controlOp(
        'createBackup',
        'Back up every namespace of the index (write keys)',
        {
          description:
            'Flushes each namespace and pins the manifest that covers it: the backup references the index’s immutable slabs, nothing is copied. Answers once the backup is Ready; on a failure the backup is left Failed and the error returned.',
          requestBody: { required: false, content: json(ref('CreateBackupRequest')) },
          responses: { '201': ok('The backup, Ready', ref('BackupModel')), '412': ok('This node is part of a cluster', ref('ErrorResponse')) },
        },
        tag,
      ),
    },
    '/backups': {
      get: controlOp(
        'listProjectBackups',
        'Every backup of the project, oldest first',
        { parameters: page, responses: { '200': ok('One page of backups', ref('BackupList')) } },
        tag,
      ),
    },
    '/backups/{backup_id}': {
      parameters: [idParam('backup_id')],
      get: controlOp('describeBackup', 'Describe a backup', { responses: { '200': ok('The backup', ref('BackupModel')) } }, tag),
      delete: controlOp(
        'deleteBackup',
        'Delete a backup and the slabs only it kept alive (write keys)',
        { responses: { '202': ok('Deleted (empty body)'), ...busy } },
        tag,
      ),
    },
    '/backups/{backup_id}/create-index': {
      parameters: [idParam('backup_id')],
      post: controlOp(
        'createIndexFromBackup',
        'Create an index from a backup (write keys)',
        {
          description:
            'Creates the index at once (the backup’s dimension, metric, cloud and region) and starts a restore job that copies the backup’s slabs into it. A job that fails deletes the index it was filling.',
          requestBody: { required: true, content: json(ref('CreateIndexFromBackupRequest')) },
          responses: {
            '202': ok('Accepted: the index exists, the restore job runs', ref('CreateIndexFromBackupResponse')),
            '409': ok('Name taken', ref('ErrorResponse')),
            '412': ok('The backup is not Ready, or this node is part of a cluster', ref('ErrorResponse')),
          },
        },
        tag,
      ),
    },
    '/restore-jobs': {
      get: controlOp(
        'listRestoreJobs',
        'The project’s restore jobs, oldest first',
        { parameters: page, responses: { '200': ok('One page of jobs', ref('RestoreJobList')) } },
        tag,
      ),
    },
    '/restore-jobs/{job_id}': {
      parameters: [idParam('job_id')],
      get: controlOp('describeRestoreJob', 'Status and progress of a restore job', { responses: { '200': ok('The job', ref('RestoreJobModel')) } }, tag),
    },
  };
}

const describeIndexStats = (operationId: string) =>
  dataOp(operationId, 'Record counts per namespace, dimension and metric', {
    ...(operationId.startsWith('post')
      ? {
          requestBody: {
            required: false,
            content: json({ type: 'object', properties: { filter: false }, description: 'Send `{}` or nothing; a `filter` is refused (serverless).' }),
          },
        }
      : {}),
    responses: { '200': ok('Statistics', ref('DescribeIndexStatsResponse')) },
  });

const paths: Record<string, Schema> = {
  '/indexes': {
    get: controlOp('listIndexes', 'List the indexes of the key’s project', { responses: { '200': ok('Indexes', ref('IndexList')) } }),
    post: controlOp('createIndex', 'Create a dense serverless index', {
      requestBody: { required: true, content: json(ref('CreateIndexRequest')) },
      responses: { '201': ok('Created (ready at once)', ref('IndexModel')), '409': ok('Name taken', ref('ErrorResponse')) },
    }),
  },
  '/indexes/{indexName}': {
    parameters: [{ name: 'indexName', in: 'path', required: true, schema: { type: 'string' } }],
    get: controlOp('describeIndex', 'Describe an index', { responses: { '200': ok('The index', ref('IndexModel')) } }),
    patch: controlOp('configureIndex', 'Change deletion protection and tags', {
      requestBody: { required: false, content: json(ref('ConfigureIndexRequest')) },
      responses: { '202': ok('The index after the change', ref('IndexModel')) },
    }),
    delete: controlOp('deleteIndex', 'Delete an index and all its data', { responses: { '202': ok('Deleted (empty body)') } }),
  },
  ...backupPaths(),
  [`${dataPrefix}/vectors/upsert`]: {
    post: dataOp('upsertVectors', 'Insert or overwrite records', {
      requestBody: { required: true, content: json(ref('UpsertRequest')) },
      responses: { '200': { ...ok('Written durably', ref('UpsertResponse')), headers: lsnHeader } },
    }),
  },
  [`${dataPrefix}/query`]: {
    post: dataOp('queryVectors', 'Nearest records to a vector or to a stored record', {
      parameters: [...indexParams, ...readHeaders],
      requestBody: { required: true, content: json(ref('QueryRequest')) },
      responses: readResponses('Matches, best first', ref('QueryResponse')),
    }),
  },
  [`${dataPrefix}/vectors/fetch`]: {
    get: dataOp('fetchVectors', 'Records by id', {
      parameters: [
        ...indexParams,
        query('ids', { type: 'array', items: recordId, minItems: 1, maxItems: LIMITS.maxIdsPerRequest }, 'Repeated: `?ids=a&ids=b`.', {
          required: true,
          style: 'form',
          explode: true,
        }),
        namespaceQuery,
        ...readHeaders,
      ],
      responses: readResponses('Records found', ref('FetchResponse')),
    }),
  },
  [`${dataPrefix}/vectors/fetch_by_metadata`]: {
    post: dataOp('fetchVectorsByMetadata', 'Records whose metadata matches a filter, in id order', {
      parameters: [...indexParams, ...readHeaders],
      requestBody: { required: true, content: json(ref('FetchByMetadataRequest')) },
      responses: readResponses('One page of records', ref('FetchByMetadataResponse')),
    }),
  },
  [`${dataPrefix}/vectors/update`]: {
    post: dataOp('updateVector', 'Update one record by id, or every record matching a filter', {
      requestBody: { required: true, content: json(ref('UpdateRequest')) },
      responses: { '200': { ...ok('Updated', ref('UpdateResponse')), headers: lsnHeader } },
    }),
  },
  [`${dataPrefix}/vectors/delete`]: {
    post: dataOp('deleteVectors', 'Delete records by id, by filter, or all of a namespace', {
      requestBody: { required: true, content: json(ref('DeleteRequest')) },
      responses: { '200': { ...ok('Deleted', ref('Empty')), headers: lsnHeader } },
    }),
  },
  [`${dataPrefix}/vectors/list`]: {
    get: dataOp('listVectors', 'Record ids in bitwise order, one page at a time', {
      parameters: [
        ...indexParams,
        query('prefix', { type: 'string', maxLength: LIMITS.maxIdLength }),
        query('limit', { type: 'integer', minimum: 1, maximum: LIMITS.maxListLimit, default: LIMITS.defaultListLimit }),
        query('paginationToken', paginationToken),
        namespaceQuery,
        ...readHeaders,
      ],
      responses: readResponses('One page of ids', ref('ListResponse')),
    }),
  },
  [`${dataPrefix}/describe_index_stats`]: {
    post: describeIndexStats('postDescribeIndexStats'),
    get: describeIndexStats('getDescribeIndexStats'),
  },
  [`${dataPrefix}/namespaces`]: {
    get: dataOp('listNamespaces', 'Namespaces in bitwise order, one page at a time', {
      parameters: [
        ...indexParams,
        query('prefix', { type: 'string', maxLength: LIMITS.maxNamespaceLength }),
        query('limit', { type: 'integer', minimum: 1, maximum: LIMITS.maxListLimit, default: LIMITS.defaultListLimit }),
        query('paginationToken', paginationToken),
      ],
      responses: { '200': ok('One page of namespaces', ref('ListNamespacesResponse')) },
    }),
    post: dataOp('createNamespace', 'Create an empty namespace, optionally with the metadata schema it indexes', {
      requestBody: { required: true, content: json(ref('CreateNamespaceRequest')) },
      responses: { '200': ok('Created', ref('NamespaceDescription')), '409': ok('Exists', ref('RpcStatus')) },
    }),
  },
  [`${dataPrefix}/namespaces/{namespace}`]: {
    get: dataOp('describeNamespace', 'Name, record count and metadata schema of a namespace', {
      parameters: [...indexParams, namespacePath],
      responses: { '200': ok('The namespace', ref('NamespaceDescription')) },
    }),
    delete: dataOp('deleteNamespace', 'Delete a namespace and its records', {
      parameters: [...indexParams, namespacePath],
      responses: { '200': ok('Deleted', ref('Empty')) },
    }),
  },
  [`${dataPrefix}/records/namespaces/{namespace}/search`]: {
    post: dataOp('searchRecordsNamespace', 'Search a namespace by vector (dense, or hybrid on dotproduct indexes) or by a record’s id', {
      parameters: [...indexParams, namespacePath, ...readHeaders],
      requestBody: { required: true, content: json(ref('SearchRecordsRequest')) },
      responses: readResponses('Hits, best first', ref('SearchRecordsResponse')),
    }),
  },
  [`${dataPrefix}/records/namespaces/{namespace}/upsert`]: {
    post: dataOp('upsertRecordsNamespace', 'Upsert text records: needs an integrated embedding model, so always refused (400 UNIMPLEMENTED)', {
      description: 'Embed the text yourself and send vectors to `/vectors/upsert`. Any body is read as it comes (Pinecone sends NDJSON) and refused.',
      parameters: [...indexParams, namespacePath],
      responses: {},
    }),
  },
  [`${dataPrefix}/bulk/imports`]: {
    get: dataOp('listBulkImports', 'The index’s imports, oldest first, one page at a time', {
      parameters: [...indexParams, query('limit', { type: 'integer', minimum: 1, maximum: 100, default: 100 }), query('paginationToken', paginationToken)],
      responses: { '200': ok('One page of imports', ref('ListImportsResponse')) },
    }),
    post: dataOp('startBulkImport', 'Start importing Parquet files from object storage into new namespaces (write keys; single-node servers)', {
      description:
        'Runs in the background on the server: each namespace directory is read row group by row group and written straight into slabs, then committed as a new namespace. A namespace that exists fails the import (`abort`) or is skipped (`continue`). On a cluster node, 400 FAILED_PRECONDITION.',
      requestBody: { required: true, content: json(ref('StartImportRequest')) },
      responses: { '200': ok('Started', ref('StartImportResponse')) },
    }),
  },
  [`${dataPrefix}/bulk/imports/{id}`]: {
    get: dataOp('describeBulkImport', 'Status and progress of an import', {
      parameters: [
        ...indexParams,
        { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^[\\x20-\\x7e]+$' } },
      ],
      responses: { '200': ok('The import', ref('ImportModel')) },
    }),
    delete: dataOp('cancelBulkImport', 'Cancel an import not yet finished (no effect on a finished one; write keys)', {
      parameters: [
        ...indexParams,
        { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^[\\x20-\\x7e]+$' } },
      ],
      responses: { '200': ok('Cancelled, or already finished', ref('Empty')) },
    }),
  },
  '/admin/whoami': {
    get: controlOp(
      'whoami',
      'The caller’s project, key id and role',
      {
        responses: {
          '200': ok('Caller', {
            type: 'object',
            properties: { project: ref('Project'), keyId: { type: 'string' }, role: ref('Role'), operator: { type: 'boolean' } },
          }),
        },
      },
      'Admin',
    ),
  },
  '/admin/projects': {
    get: controlOp(
      'listProjects',
      'Every project (operator key) or the caller’s own (admin key)',
      {
        responses: { '200': ok('Projects', { type: 'object', properties: { projects: { type: 'array', items: ref('Project') } } }) },
      },
      'Admin',
    ),
    post: controlOp(
      'createProject',
      'Create a project and its first admin key (operator admin keys only)',
      {
        requestBody: { required: true, content: json({ type: 'object', required: ['name'], properties: { name: adminName } }) },
        responses: {
          '201': ok('Created; `apiKey` is shown only here', {
            type: 'object',
            properties: { project: ref('Project'), apiKey: { type: 'string' }, key: ref('ApiKey') },
          }),
          '409': ok('A project of that name exists', ref('ErrorResponse')),
        },
      },
      'Admin',
    ),
  },
  '/admin/api-keys': {
    get: controlOp(
      'listApiKeys',
      'API keys of the caller’s project (admin keys only)',
      {
        responses: { '200': ok('Keys', { type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } } }) },
      },
      'Admin',
    ),
    post: controlOp(
      'createApiKey',
      'Create an API key (admin keys only)',
      {
        requestBody: {
          required: true,
          content: json({ type: 'object', required: ['name'], properties: { name: adminName, role: { ...ref('Role'), default: 'read-write' } } }),
        },
        responses: {
          '201': ok('Created; `apiKey` (the secret) is shown only here and stored hashed', {
            type: 'object',
            properties: { apiKey: { type: 'string' }, key: ref('ApiKey') },
          }),
        },
      },
      'Admin',
    ),
  },
  '/admin/api-keys/{keyId}': {
    delete: controlOp(
      'revokeApiKey',
      'Revoke an API key, effective at once (admin keys only)',
      {
        parameters: [{ name: 'keyId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } }],
        responses: { '200': ok('The revoked key', ref('ApiKey')), '412': ok('The project’s last active admin key', ref('ErrorResponse')) },
      },
      'Admin',
    ),
  },
  '/admin/usage': {
    get: controlOp(
      'getUsage',
      'Read and write units per index per UTC day (admin keys only)',
      {
        parameters: [
          query('from', day, 'First day (default: 29 days before `to`); at most 400 days before `to`.'),
          query('to', day, 'Last day (default: today, UTC); not before `from`.'),
          query('index', indexName, 'Only this index.'),
        ],
        responses: { '200': ok('Usage', ref('UsageReport')) },
      },
      'Admin',
    ),
  },
  '/admin/cluster/nodes': {
    get: controlOp(
      'listClusterNodes',
      'The cluster’s nodes, their roles and heartbeats (operator admin keys only)',
      {
        responses: {
          '200': ok('Cluster', {
            type: 'object',
            required: ['leaseMs', 'nodes'],
            properties: {
              leaseMs: { type: 'integer', description: 'A node whose last heartbeat is older than this is not live.' },
              nodes: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'roles', 'url', 'state', 'startedAt', 'heartbeatAt', 'sinceHeartbeatMs', 'live'],
                  properties: {
                    id: { type: 'string' },
                    roles: { type: 'array', items: { type: 'string', enum: ['gateway', 'writer', 'query', 'indexer'] } },
                    url: { type: 'string' },
                    state: { type: 'string', enum: ['active', 'draining'] },
                    startedAt: { type: 'string', format: 'date-time' },
                    heartbeatAt: { type: 'string', format: 'date-time' },
                    sinceHeartbeatMs: { type: 'integer', description: 'Time since its last heartbeat, by the database’s clock.' },
                    live: { type: 'boolean' },
                  },
                },
              },
            },
          }),
        },
      },
      'Admin',
    ),
  },
  '/admin/cluster/jobs': {
    get: controlOp(
      'listClusterJobs',
      'Recent index-build jobs writers queued for indexers, the most recently changed first (operator admin keys only)',
      {
        parameters: [
          query(
            'state',
            { type: 'array', items: { type: 'string', enum: [...INDEX_JOB_STATES] }, minItems: 1 },
            'Only jobs in these states; repeated: `?state=pending&state=running`.',
            {
              style: 'form',
              explode: true,
            },
          ),
          query('limit', { type: 'integer', minimum: 1, maximum: CLUSTER_JOBS_MAX_LIMIT, default: CLUSTER_JOBS_DEFAULT_LIMIT }),
        ],
        responses: {
          '200': ok('Jobs', {
            type: 'object',
            required: ['jobs'],
            properties: { jobs: { type: 'array', items: ref('ClusterJob') } },
          }),
        },
      },
      'Admin',
    ),
  },
  '/admin/cluster/namespaces': {
    get: controlOp(
      'listClusterNamespaces',
      'Where each namespace of an index lives: its owner writer, epoch and LSNs, the query node serving it and its replica’s lag (operator admin keys only)',
      {
        parameters: [
          query('index', indexName, 'An index of the caller’s project.', { required: true }),
          query(
            'limit',
            { type: 'integer', minimum: 1, maximum: CLUSTER_NAMESPACES_MAX_LIMIT, default: CLUSTER_NAMESPACES_DEFAULT_LIMIT },
            'Namespaces described, the first by name.',
          ),
        ],
        responses: {
          '200': ok('Ownership', {
            type: 'object',
            required: ['index', 'singleProcess', 'totalCount', 'namespaces'],
            properties: {
              index: { type: 'string' },
              singleProcess: { type: 'boolean', description: 'One process with every role: it owns every namespace and serves its reads; no replicas.' },
              totalCount: { type: 'integer', description: 'Namespaces of the index; `namespaces` holds the first `limit` by name.' },
              namespaces: { type: 'array', items: ref('ClusterNamespace') },
            },
          }),
        },
      },
      'Admin',
    ),
  },
  '/admin/projects/{projectId}/rate-limits': rateLimitPaths('Project', [rateLimitProject]),
  '/admin/projects/{projectId}/indexes/{indexName}/rate-limits': rateLimitPaths('Index', [
    rateLimitProject,
    { name: 'indexName', in: 'path', required: true, schema: indexName },
  ]),
};

/** The OpenAPI document served at `GET /openapi.json`. */
export function openApiDocument(): Record<string, unknown> {
  const limits = Object.entries(PINECONE_RATE_LIMITS)
    .map(([name, value]) => `\`${name}\` ${value}`)
    .join(', ');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Conifer REST API',
      version: '2026-04',
      description: [
        'Pinecone-compatible REST API of Conifer (API version 2026-04; clients 6.x–8.x of `@pinecone-database/pinecone` work unchanged, 9.x gets the 2026-07 IndexModel).',
        'The control plane is at the server root; each index’s data plane is under its `host`, `/projects/{projectId}/indexes/{indexName}`.',
        'Authenticate with the `Api-Key` header (or `Authorization: Bearer <key>`). Read-only keys get 403 on writes; an index of another project is 404.',
        '`""` and `"__default__"` name the default namespace.',
        'Writes answer `x-pinecone-request-lsn`; record reads (query, fetch, fetch by metadata, list) take `x-conifer-consistency` and `x-conifer-min-lsn` and answer `x-pinecone-max-indexed-lsn`, the LSN they reflect.',
        'A path asked with a method it does not have is answered 405 with an `Allow` header; a request line and headers too large to parse (over about 1.6 MB, which the largest fetch the limits allow fits) 431.',
        `Rate limits are off unless the operator turns them on: for the node (\`CONIFER_RATE_LIMITS=on\` applies Pinecone’s, per second: ${limits}; see apps/server/src/config.ts), and per project and per index through \`/admin/projects/{projectId}/rate-limits\`. Exceeding one answers 429 naming it.`,
      ].join('\n\n'),
    },
    servers: [{ url: 'http://127.0.0.1:5080', description: 'Default local server' }],
    security: [{ ApiKeyAuth: [] }],
    tags: [
      { name: 'Control plane', description: 'Indexes (Pinecone db_control).' },
      { name: 'Backups', description: 'Backups of indexes and restores from them (Pinecone db_control); single-node servers.' },
      { name: 'Data plane', description: 'Records and namespaces of one index (Pinecone db_data).' },
      { name: 'Admin', description: 'Conifer’s own API: projects, API keys, usage, rate limits, the cluster.' },
    ],
    paths,
    components: {
      securitySchemes: { ApiKeyAuth: { type: 'apiKey', in: 'header', name: 'Api-Key' } },
      responses: sharedResponses,
      schemas,
    },
  };
}
