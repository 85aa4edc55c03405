import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError, NotFoundError, configureIndexSchema, indexRefSchema } from '@conifer/core';
import { createIndexRequestSchema, type IndexInfo, type Services } from '@conifer/api';
import { registerBackups } from './backup-routes.ts';
import { UNSUPPORTED, UnimplementedError, parseWith, useControlPlaneErrors } from './errors.ts';
import { acceptJsonBodies, authOf, bodyOf, requireApiKey } from './plugin-support.ts';
import { indexHostPath, publicBaseUrl, speaks202607, toIndexModel, toIndexModel202607 } from './wire.ts';

/** Wire (snake_case) names of the request fields, for validation messages. */
const WIRE_FIELDS = { deletionProtection: 'deletion_protection' };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An optional object field of a request: absent or null (Pinecone's generated clients send null
 * for unset fields) is `{}`; anything else that is not an object is a 400 naming the field, rather
 * than being read as absent and ignored.
 */
function objectField(value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new InvalidArgumentError(`${field}: must be an object`);
  return value;
}

/**
 * Reads a create-index body in either shape the clients send: API ≤ 2026-04 (`dimension`,
 * `metric`, `vector_type`, `spec.serverless`) or 2026-07 (`deployment`, `schema.fields._values`).
 * Only what Conifer offers is accepted — dense serverless indexes with on-demand read capacity:
 * pods, BYOC, dedicated read capacity and a source collection are 400 UNIMPLEMENTED naming the
 * field (`UNSUPPORTED`). A sparse-only index is `vector_type: "sparse"` (≤ 2026-04) or a schema whose
 * `_sparse_values` field is a `sparse_vector` and that has no `_values` (2026-07).
 */
export function createIndexInput(body: Json): unknown {
  let dimension: unknown = body.dimension;
  let metric: unknown = body.metric;
  let vectorType: unknown = body.vector_type;
  let cloud: unknown;
  let region: unknown;
  let readCapacity: unknown;
  let readCapacityField: string;
  const present = (value: unknown) => value !== undefined && value !== null;
  const schema = objectField(body.schema, 'schema');
  const schemaFields = present(schema.fields) ? objectField(schema.fields, 'schema.fields') : undefined;
  if (present(body.deployment) || schemaFields !== undefined) {
    // API 2026-07.
    const deployment = objectField(body.deployment, 'deployment');
    const type = deployment.deployment_type;
    if (type === 'pod') throw new UnimplementedError(`deployment.deployment_type: ${UNSUPPORTED.pods}`);
    if (type === 'byoc') throw new UnimplementedError(`deployment.deployment_type: ${UNSUPPORTED.byoc}`);
    if (type !== undefined && type !== 'managed') {
      throw new InvalidArgumentError('deployment.deployment_type: only "managed" (serverless) indexes are supported');
    }
    cloud = deployment.cloud;
    region = deployment.region;
    readCapacity = body.read_capacity;
    readCapacityField = 'read_capacity';
    const values = schemaFields !== undefined && isObject(schemaFields._values) ? schemaFields._values : undefined;
    const sparse = schemaFields !== undefined && isObject(schemaFields._sparse_values) ? schemaFields._sparse_values : undefined;
    if (values !== undefined && sparse !== undefined) {
      throw new InvalidArgumentError(
        'schema.fields._sparse_values: an index is dense (_values) or sparse (_sparse_values), not both; hybrid records go in a dense dotproduct index',
      );
    }
    if (sparse !== undefined) {
      if (sparse.type !== undefined && sparse.type !== 'sparse_vector')
        throw new InvalidArgumentError("schema.fields._sparse_values.type: must be 'sparse_vector'");
      vectorType = 'sparse';
      dimension = undefined;
      metric = sparse.metric;
    } else {
      if (values === undefined)
        throw new InvalidArgumentError(
          'schema.fields._values: a dense_vector field with dimension and metric is required (or _sparse_values for a sparse index)',
        );
      vectorType = 'dense';
      dimension = values.dimension;
      metric = values.metric;
    }
  } else {
    if (vectorType !== undefined && vectorType !== null && vectorType !== 'dense' && vectorType !== 'sparse') {
      throw new InvalidArgumentError("vector_type: must be 'dense' or 'sparse'");
    }
    const spec = objectField(body.spec, 'spec');
    refusePods(spec);
    if (spec.byoc !== undefined && spec.byoc !== null) throw new UnimplementedError(`spec.byoc: ${UNSUPPORTED.byoc}`);
    const serverless = objectField(spec.serverless, 'spec.serverless');
    if (serverless.source_collection !== undefined && serverless.source_collection !== null) {
      throw new UnimplementedError(`spec.serverless.source_collection: ${UNSUPPORTED.collections}`);
    }
    cloud = serverless.cloud;
    region = serverless.region;
    readCapacity = serverless.read_capacity;
    readCapacityField = 'spec.serverless.read_capacity';
  }
  checkReadCapacity(readCapacity, readCapacityField);
  return {
    name: body.name,
    // Clients send `dimension: null` for a sparse index.
    dimension: dimension ?? undefined,
    metric: metric ?? undefined,
    vectorType: vectorType ?? undefined,
    deletionProtection: body.deletion_protection ?? undefined,
    tags: body.tags ?? undefined,
    cloud: cloud ?? undefined,
    region: region ?? undefined,
  };
}

/** `spec.pod` (API ≤ 2026-04, create and configure): pods are not offered. */
function refusePods(spec: Json): void {
  if (spec.pod !== undefined && spec.pod !== null) throw new UnimplementedError(`spec.pod: ${UNSUPPORTED.pods}`);
}

/** Read capacity: only OnDemand; Dedicated is not offered, any other mode is not a mode. */
function checkReadCapacity(readCapacity: unknown, field: string): void {
  const { mode } = objectField(readCapacity, field);
  if (mode === undefined || mode === null || mode === 'OnDemand') return;
  if (mode === 'Dedicated') throw new UnimplementedError(`${field}.mode: ${UNSUPPORTED.dedicatedReadCapacity}`);
  throw new InvalidArgumentError(`${field}.mode: must be "OnDemand" (the only mode Conifer offers)`);
}

/**
 * The Pinecone control plane at the server root: `GET/POST /indexes`,
 * `GET/PATCH/DELETE /indexes/{name}`. Snake_case JSON, `{ error: { code, message }, status }`
 * errors, hosts with an `http://` scheme pointing at each index's data-plane prefix. Clients that
 * declare API 2026-07 (client 9.x) get that version's IndexModel.
 */
export function registerControlPlane(
  app: FastifyInstance,
  /** `indexHostsByPort`: CONIFER_INDEX_HOSTS=ports, an index with a port is described at it. */
  options: { services: Services; publicUrl: string | undefined; indexHostsByPort: boolean },
): void {
  const { services, indexHostsByPort } = options;
  useControlPlaneErrors(app);
  acceptJsonBodies(app);
  requireApiKey(app, services);

  const model = (request: FastifyRequest, index: IndexInfo) => {
    // An index with a port of its own is served there, on the host name the client reached us by.
    const host =
      indexHostsByPort && index.hostPort !== undefined
        ? indexPortUrl(request, options.publicUrl, index.hostPort)
        : publicBaseUrl(request, options.publicUrl) + indexHostPath(authOf(request).projectId, index.name);
    return speaks202607(request) ? toIndexModel202607(index, host) : toIndexModel(index, host);
  };

  app.get('/indexes', async (request) => {
    const { indexes } = await services.listIndexes(authOf(request));
    return { indexes: indexes.map((index) => model(request, index)) };
  });

  app.post('/indexes', async (request, reply) => {
    const input = parseWith(createIndexRequestSchema, createIndexInput(bodyOf(request)), WIRE_FIELDS);
    const created = await services.createIndex(authOf(request), input);
    return reply.code(201).send(model(request, created));
  });

  app.get('/indexes/:name', async (request) => {
    const { name } = request.params as { name: string };
    return model(request, await services.describeIndex(authOf(request), parseIndexName(name)));
  });

  app.patch('/indexes/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const body = bodyOf(request);
    if (body.embed !== undefined && body.embed !== null) throw new UnimplementedError(`embed: ${UNSUPPORTED.integratedEmbedding}`);
    const spec = objectField(body.spec, 'spec');
    refusePods(spec);
    if (spec.serverless !== undefined && spec.serverless !== null) {
      checkReadCapacity(objectField(spec.serverless, 'spec.serverless').read_capacity, 'spec.serverless.read_capacity');
    } else {
      checkReadCapacity(body.read_capacity, 'read_capacity');
    }
    const input = parseWith(
      configureIndexSchema,
      { name: parseIndexName(name).name, deletionProtection: body.deletion_protection ?? undefined, tags: body.tags ?? undefined },
      WIRE_FIELDS,
    );
    const configured = await services.configureIndex(authOf(request), input);
    return reply.code(202).send(model(request, configured));
  });

  app.delete('/indexes/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    await services.deleteIndex(authOf(request), parseIndexName(name));
    return reply.code(202).send();
  });

  registerBackups(app, { services });

  // What Pinecone serves on this host and Conifer does not (db_control, inference, assistant):
  // 400 UNIMPLEMENTED naming it, on every method, never a bare "route not found".
  const unimplemented = (message: string) => async () => {
    throw new UnimplementedError(message);
  };
  app.post('/indexes/create-for-model', unimplemented(UNSUPPORTED.integratedEmbedding));
  for (const [path, message] of [
    ['/collections', UNSUPPORTED.collections],
    ['/models', UNSUPPORTED.inference],
    ['/assistant', UNSUPPORTED.assistant],
  ] as const) {
    app.all(path, unimplemented(message));
    app.all(`${path}/*`, unimplemented(message));
  }
  app.all('/embed', unimplemented(UNSUPPORTED.inference));
  app.all('/rerank', unimplemented(UNSUPPORTED.inference));
}

/** An index name from the path; a malformed one cannot exist, so it is "not found". */
function parseIndexName(name: string): { name: string } {
  const parsed = indexRefSchema.safeParse({ name });
  if (!parsed.success) throw new NotFoundError(`Index ${name} not found.`);
  return parsed.data;
}

/**
 * The URL of an index's own port: on `CONIFER_PUBLIC_URL`'s scheme and host name when set, else on
 * those the request reached the server by (IPv6 literals keep their brackets).
 */
function indexPortUrl(request: FastifyRequest, publicUrl: string | undefined, port: number): string {
  if (publicUrl !== undefined) {
    const base = new URL(publicUrl);
    return `${base.protocol}//${base.hostname}:${port}`;
  }
  return `${request.protocol}://${request.host.replace(/:\d+$/, '')}:${port}`;
}
