import { LIMITS } from '@conifer/core';
import { DEFAULT_RATE_LIMITS } from '@conifer/api';

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
const refs = (table: Record<string, [string, string]>) => Object.fromEntries(Object.entries(table).map(([status, [name]]) => [status, responseRef(name)]));
const controlErrors = refs(controlErrorResponses);
const dataErrors = refs(dataErrorResponses);
const sharedResponses = {
  ...Object.fromEntries(Object.values(controlErrorResponses).map(([name, description]) => [name, ok(description, ref('ErrorResponse'))])),
  ...Object.fromEntries(Object.values(dataErrorResponses).map(([name, description]) => [name, ok(description, ref('RpcStatus'))])),
};

const lsnHeader = {
  'x-pinecone-request-lsn': { description: 'Log sequence number the write was durably logged at, in its namespace.', schema: { type: 'string' } },
};

const dataPrefix = '/projects/{projectId}/indexes/{indexName}';
const indexParams = [
  { name: 'projectId', in: 'path', required: true, description: 'Project of the index (part of its `host`).', schema: { type: 'string' } },
  { name: 'indexName', in: 'path', required: true, schema: { type: 'string' } },
];
const query = (name: string, schema: Schema, description?: string, extra: Schema = {}) => ({
  name,
  in: 'query',
  schema,
  ...(description ? { description } : {}),
  ...extra,
});
const namespaceQuery = query('namespace', { type: 'string' }, 'Namespace; `""` or `"__default__"` is the default namespace.');

function dataOp(operationId: string, summary: string, spec: Schema): Schema {
  return { operationId, summary, tags: ['Data plane'], parameters: indexParams, ...spec, responses: { ...(spec.responses as Schema), ...dataErrors } };
}

function controlOp(operationId: string, summary: string, spec: Schema, tag = 'Control plane'): Schema {
  return { operationId, summary, tags: [tag], ...spec, responses: { ...(spec.responses as Schema), ...controlErrors } };
}

const metadata: Schema = {
  type: 'object',
  description: `Flat object of strings, numbers, booleans and lists of strings; keys must not start with "$"; at most ${LIMITS.maxMetadataBytes} bytes as JSON.`,
  additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { type: 'string' } }] },
};
const filter: Schema = {
  type: 'object',
  description: 'Metadata filter: `$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`; `{"f": v}` means `{"f": {"$eq": v}}`.',
  additionalProperties: true,
};
const usage: Schema = { type: 'object', required: ['readUnits'], properties: { readUnits: { type: 'integer', description: 'Read units of the request, rounded up.' } } };
const pagination: Schema = { type: 'object', required: ['next'], properties: { next: { type: 'string' } }, description: 'Absent on the last page.' };
const dimension: Schema = { type: 'integer', minimum: LIMITS.minDimension, maximum: LIMITS.maxDimension };
const metric: Schema = { type: 'string', enum: ['cosine', 'euclidean', 'dotproduct'] };
const tags: Schema = { type: 'object', additionalProperties: { type: 'string', maxLength: LIMITS.maxTagValueLength } };

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
            enum: ['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'FORBIDDEN', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION', 'UNPROCESSABLE_ENTITY', 'RESOURCE_EXHAUSTED', 'UNIMPLEMENTED', 'UNAVAILABLE', 'INTERNAL'],
          },
          message: { type: 'string' },
        },
      },
      status: { type: 'integer' },
    },
  },
  RpcStatus: {
    type: 'object',
    description: 'Data-plane error: gRPC status code (3 invalid argument, 5 not found, 6 already exists, 7 permission denied, 8 resource exhausted, 12 unimplemented, 13 internal, 16 unauthenticated).',
    required: ['code', 'message', 'details'],
    properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object' } } },
  },
  IndexModel: {
    type: 'object',
    required: ['name', 'dimension', 'metric', 'host', 'spec', 'status', 'vector_type'],
    properties: {
      name: { type: 'string' },
      dimension,
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
              read_capacity: { type: 'object', properties: { mode: { const: 'OnDemand' }, status: { type: 'object', properties: { state: { const: 'Ready' } } } } },
            },
          },
        },
      },
      status: { type: 'object', required: ['ready', 'state'], properties: { ready: { type: 'boolean' }, state: { type: 'string', enum: ['Ready', 'Terminating'] } } },
      vector_type: { const: 'dense' },
    },
  },
  CreateIndexRequest: {
    type: 'object',
    required: ['name', 'dimension'],
    description: 'Dense serverless indexes only. Clients of API 2026-07 may send `deployment` and `schema.fields._values` instead of `dimension`, `metric` and `spec`.',
    properties: {
      name: { type: 'string', maxLength: LIMITS.maxIndexNameLength, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' },
      dimension,
      metric: { ...metric, default: 'cosine' },
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'], default: 'disabled' },
      tags,
      vector_type: { const: 'dense' },
      spec: { type: 'object', properties: { serverless: { type: 'object', properties: { cloud: { type: 'string' }, region: { type: 'string' } } } } },
    },
  },
  ConfigureIndexRequest: {
    type: 'object',
    properties: {
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] },
      tags: { ...tags, description: 'Merged into the current tags; a tag set to "" is removed.' },
    },
  },
  IndexList: { type: 'object', required: ['indexes'], properties: { indexes: { type: 'array', items: ref('IndexModel') } } },
  SparseValues: {
    type: 'object',
    required: ['indices', 'values'],
    description: `Same-length arrays; unique unsigned 32-bit indices; at most ${LIMITS.maxSparseValues} entries.`,
    properties: { indices: { type: 'array', items: { type: 'integer', minimum: 0 } }, values: { type: 'array', items: { type: 'number' } } },
  },
  Vector: {
    type: 'object',
    required: ['id', 'values'],
    properties: {
      id: { type: 'string', minLength: LIMITS.minIdLength, maxLength: LIMITS.maxIdLength },
      values: { type: 'array', items: { type: 'number' }, description: 'Stored as float32, returned as the shortest decimal that reads back as the same float32.' },
      sparseValues: ref('SparseValues'),
      metadata,
    },
  },
  ScoredVector: {
    type: 'object',
    required: ['id', 'score'],
    properties: { id: { type: 'string' }, score: { type: 'number' }, values: { type: 'array', items: { type: 'number' } }, sparseValues: ref('SparseValues'), metadata },
  },
  UpsertRequest: {
    type: 'object',
    required: ['vectors'],
    properties: { vectors: { type: 'array', minItems: 1, maxItems: LIMITS.maxUpsertRecords, items: ref('Vector') }, namespace: { type: 'string' } },
  },
  UpsertResponse: { type: 'object', required: ['upsertedCount'], properties: { upsertedCount: { type: 'integer' } } },
  QueryRequest: {
    type: 'object',
    required: ['topK'],
    description: 'Exactly one of `vector` and `id`; `sparseVector` adds a sparse part (dotproduct indexes only): score = dense·dense + sparse·sparse.',
    properties: {
      namespace: { type: 'string' },
      topK: { type: 'integer', minimum: LIMITS.minTopK, maximum: LIMITS.maxTopK },
      filter,
      includeValues: { type: 'boolean', default: false },
      includeMetadata: { type: 'boolean', default: false },
      vector: { type: 'array', items: { type: 'number' } },
      sparseVector: ref('SparseValues'),
      id: { type: 'string', description: 'Query with this record’s vector; an unknown id gives no matches.' },
    },
  },
  QueryResponse: {
    type: 'object',
    required: ['matches', 'namespace', 'usage'],
    properties: { matches: { type: 'array', items: ref('ScoredVector') }, namespace: { type: 'string' }, usage },
  },
  FetchResponse: {
    type: 'object',
    required: ['vectors', 'namespace', 'usage'],
    properties: { vectors: { type: 'object', additionalProperties: ref('Vector'), description: 'By id; missing ids are left out.' }, namespace: { type: 'string' }, usage },
  },
  FetchByMetadataRequest: {
    type: 'object',
    required: ['filter'],
    properties: {
      namespace: { type: 'string' },
      filter,
      limit: { type: 'integer', minimum: 1, maximum: LIMITS.maxFetchByMetadataLimit, default: LIMITS.defaultFetchByMetadataLimit },
      paginationToken: { type: 'string' },
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
    properties: {
      id: { type: 'string' },
      filter,
      values: { type: 'array', items: { type: 'number' } },
      sparseValues: ref('SparseValues'),
      setMetadata: metadata,
      namespace: { type: 'string' },
      dryRun: { type: 'boolean', description: 'Count the matching records without changing them.' },
    },
  },
  UpdateResponse: { type: 'object', required: ['matchedRecords'], properties: { matchedRecords: { type: 'integer' } } },
  DeleteRequest: {
    type: 'object',
    description: 'Exactly one of `ids`, `deleteAll: true` and `filter`.',
    properties: {
      ids: { type: 'array', maxItems: LIMITS.maxIdsPerRequest, items: { type: 'string' } },
      deleteAll: { type: 'boolean' },
      filter,
      namespace: { type: 'string' },
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
    required: ['namespaces', 'dimension', 'indexFullness', 'totalVectorCount', 'metric', 'vectorType'],
    properties: {
      namespaces: {
        type: 'object',
        description: 'Namespaces holding records; the default one under "__default__" (API ≥ 2025-04) or "" (older).',
        additionalProperties: { type: 'object', required: ['vectorCount'], properties: { vectorCount: { type: 'integer' } } },
      },
      dimension,
      indexFullness: { type: 'number' },
      totalVectorCount: { type: 'integer' },
      metric,
      vectorType: { const: 'dense' },
    },
  },
  NamespaceDescription: {
    type: 'object',
    required: ['name', 'record_count'],
    properties: { name: { type: 'string' }, record_count: { type: 'integer' }, schema: { type: 'object', description: 'Echoed from the create request.' } },
  },
  ListNamespacesResponse: {
    type: 'object',
    required: ['namespaces', 'total_count'],
    properties: { namespaces: { type: 'array', items: ref('NamespaceDescription') }, pagination, total_count: { type: 'integer' } },
  },
  CreateNamespaceRequest: {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', minLength: 1, maxLength: LIMITS.maxNamespaceLength }, schema: { type: 'object', description: 'Accepted and echoed; every metadata field is filterable in Conifer.' } },
  },
  Project: { type: 'object', required: ['id', 'name', 'createdAt'], properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } },
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
};

const describeIndexStats = (operationId: string) =>
  dataOp(operationId, 'Record counts per namespace, dimension and metric', {
    ...(operationId.startsWith('post') ? { requestBody: { content: json({ type: 'object', description: 'Send `{}`; a `filter` is refused (serverless).' }) } } : {}),
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
      requestBody: { required: true, content: json(ref('ConfigureIndexRequest')) },
      responses: { '202': ok('The index after the change', ref('IndexModel')) },
    }),
    delete: controlOp('deleteIndex', 'Delete an index and all its data', { responses: { '202': ok('Deleted (empty body)') } }),
  },
  [`${dataPrefix}/vectors/upsert`]: {
    post: dataOp('upsertVectors', 'Insert or overwrite records', {
      requestBody: { required: true, content: json(ref('UpsertRequest')) },
      responses: { '200': { ...ok('Written durably', ref('UpsertResponse')), headers: lsnHeader } },
    }),
  },
  [`${dataPrefix}/query`]: {
    post: dataOp('queryVectors', 'Nearest records to a vector or to a stored record', {
      requestBody: { required: true, content: json(ref('QueryRequest')) },
      responses: { '200': ok('Matches, best first', ref('QueryResponse')) },
    }),
  },
  [`${dataPrefix}/vectors/fetch`]: {
    get: dataOp('fetchVectors', 'Records by id', {
      parameters: [
        ...indexParams,
        query('ids', { type: 'array', items: { type: 'string' }, maxItems: LIMITS.maxIdsPerRequest }, 'Repeated: `?ids=a&ids=b`.', { required: true, style: 'form', explode: true }),
        namespaceQuery,
      ],
      responses: { '200': ok('Records found', ref('FetchResponse')) },
    }),
  },
  [`${dataPrefix}/vectors/fetch_by_metadata`]: {
    post: dataOp('fetchVectorsByMetadata', 'Records whose metadata matches a filter, in id order', {
      requestBody: { required: true, content: json(ref('FetchByMetadataRequest')) },
      responses: { '200': ok('One page of records', ref('FetchByMetadataResponse')) },
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
        query('prefix', { type: 'string' }),
        query('limit', { type: 'integer', minimum: 1, maximum: LIMITS.maxListLimit, default: LIMITS.defaultListLimit }),
        query('paginationToken', { type: 'string' }),
        namespaceQuery,
      ],
      responses: { '200': ok('One page of ids', ref('ListResponse')) },
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
        query('prefix', { type: 'string' }),
        query('limit', { type: 'integer', minimum: 1, maximum: LIMITS.maxListLimit, default: LIMITS.defaultListLimit }),
        query('paginationToken', { type: 'string' }),
      ],
      responses: { '200': ok('One page of namespaces', ref('ListNamespacesResponse')) },
    }),
    post: dataOp('createNamespace', 'Create an empty namespace', {
      requestBody: { required: true, content: json(ref('CreateNamespaceRequest')) },
      responses: { '201': ok('Created', ref('NamespaceDescription')), '409': ok('Exists', ref('RpcStatus')) },
    }),
  },
  [`${dataPrefix}/namespaces/{namespace}`]: {
    get: dataOp('describeNamespace', 'Name and record count of a namespace', {
      parameters: [...indexParams, { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': ok('The namespace', ref('NamespaceDescription')) },
    }),
    delete: dataOp('deleteNamespace', 'Delete a namespace and its records', {
      parameters: [...indexParams, { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '202': ok('Deleted', ref('Empty')) },
    }),
  },
  '/admin/whoami': {
    get: controlOp('whoami', 'The caller’s project, key id and role', {
      responses: {
        '200': ok('Caller', {
          type: 'object',
          properties: { project: ref('Project'), keyId: { type: 'string' }, role: ref('Role'), operator: { type: 'boolean' } },
        }),
      },
    }, 'Admin'),
  },
  '/admin/projects': {
    get: controlOp('listProjects', 'Every project (operator key) or the caller’s own (admin key)', {
      responses: { '200': ok('Projects', { type: 'object', properties: { projects: { type: 'array', items: ref('Project') } } }) },
    }, 'Admin'),
    post: controlOp('createProject', 'Create a project and its first admin key (operator admin keys only)', {
      requestBody: { required: true, content: json({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 128 } } }) },
      responses: {
        '201': ok('Created; `apiKey` is shown only here', {
          type: 'object',
          properties: { project: ref('Project'), apiKey: { type: 'string' }, key: ref('ApiKey') },
        }),
      },
    }, 'Admin'),
  },
  '/admin/api-keys': {
    get: controlOp('listApiKeys', 'API keys of the caller’s project (admin keys only)', {
      responses: { '200': ok('Keys', { type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } } }) },
    }, 'Admin'),
    post: controlOp('createApiKey', 'Create an API key (admin keys only)', {
      requestBody: {
        required: true,
        content: json({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 128 }, role: { ...ref('Role'), default: 'read-write' } } }),
      },
      responses: {
        '201': ok('Created; `apiKey` (the secret) is shown only here and stored hashed', {
          type: 'object',
          properties: { apiKey: { type: 'string' }, key: ref('ApiKey') },
        }),
      },
    }, 'Admin'),
  },
  '/admin/api-keys/{keyId}': {
    delete: controlOp('revokeApiKey', 'Revoke an API key, effective at once (admin keys only)', {
      parameters: [{ name: 'keyId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': ok('The revoked key', ref('ApiKey')), '412': ok('The project’s last active admin key', ref('ErrorResponse')) },
    }, 'Admin'),
  },
  '/admin/usage': {
    get: controlOp('getUsage', 'Read and write units per index per UTC day (admin keys only)', {
      parameters: [
        query('from', { type: 'string', format: 'date' }, 'First day (default: 29 days before `to`).'),
        query('to', { type: 'string', format: 'date' }, 'Last day (default: today, UTC).'),
        query('index', { type: 'string' }, 'Only this index.'),
      ],
      responses: { '200': ok('Usage', ref('UsageReport')) },
    }, 'Admin'),
  },
};

/** The OpenAPI document served at `GET /openapi.json`. */
export function openApiDocument(): Record<string, unknown> {
  const limits = Object.entries(DEFAULT_RATE_LIMITS)
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
        `Rate limits per second (429 when exceeded; configurable, see apps/server/src/config.ts): ${limits}.`,
      ].join('\n\n'),
    },
    servers: [{ url: 'http://127.0.0.1:5080', description: 'Default local server' }],
    security: [{ ApiKeyAuth: [] }],
    tags: [
      { name: 'Control plane', description: 'Indexes (Pinecone db_control).' },
      { name: 'Data plane', description: 'Records and namespaces of one index (Pinecone db_data).' },
      { name: 'Admin', description: 'Conifer’s own API: projects, API keys, usage.' },
    ],
    paths,
    components: {
      securitySchemes: { ApiKeyAuth: { type: 'apiKey', in: 'header', name: 'Api-Key' } },
      responses: sharedResponses,
      schemas,
    },
  };
}
