import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortRange } from '../grpc/testing.ts';
import { startServer, TEST_API_KEY, type RunningServer } from '../test-support.ts';
import { UNSUPPORTED } from './errors.ts';
import { indexHostPath } from './wire.ts';

/**
 * Every Pinecone path and body field Conifer does not serve (pods, BYOC, dedicated read capacity,
 * collections, integrated inference, the assistant, the 2026-07 documents API, namespace
 * aliases), walked on every host that could be asked: the control plane at the
 * root, an index's data plane by path, and the same data plane on the index's own port
 * (CONIFER_INDEX_HOSTS=ports). Each answers 400 with code UNIMPLEMENTED (gRPC 12 on the data
 * plane) and a message naming what is not supported — never a bare "route not found", never 501
 * (which the Pinecone clients would retry).
 */

interface Case {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  message: string;
}

const INDEX = 'unsup';

/** The control plane's refusals: paths of db_control, inference and the assistant, and body fields. */
const CONTROL: Case[] = [
  ...['GET', 'POST'].map((method) => ({ method, path: '/collections', body: { name: 'c', source: INDEX }, message: UNSUPPORTED.collections })),
  ...['GET', 'DELETE'].map((method) => ({ method, path: '/collections/c', message: UNSUPPORTED.collections })),
  {
    method: 'POST',
    path: '/indexes/create-for-model',
    body: { name: 'embedded', cloud: 'aws', region: 'us-east-1', embed: { model: 'llama-text-embed-v2', field_map: { text: 'chunk_text' } } },
    message: UNSUPPORTED.integratedEmbedding,
  },
  { method: 'POST', path: '/embed', body: { model: 'multilingual-e5-large', inputs: [{ text: 'x' }] }, message: UNSUPPORTED.inference },
  { method: 'POST', path: '/rerank', body: { model: 'bge-reranker-v2-m3', query: 'q', documents: [{ text: 'x' }] }, message: UNSUPPORTED.inference },
  { method: 'GET', path: '/models', message: UNSUPPORTED.inference },
  { method: 'GET', path: '/models/llama-text-embed-v2', message: UNSUPPORTED.inference },
  ...['GET', 'POST'].map((method) => ({ method, path: '/assistant/assistants', body: { name: 'a' }, message: UNSUPPORTED.assistant })),
  ...['GET', 'PATCH', 'DELETE'].map((method) => ({ method, path: '/assistant/assistants/a', body: {}, message: UNSUPPORTED.assistant })),
  // Fields of create and configure: API ≤ 2026-04 bodies...
  {
    method: 'POST',
    path: '/indexes',
    body: { name: 'pods', dimension: 2, spec: { pod: { environment: 'us-east1-gcp', pod_type: 'p1.x1' } } },
    message: `spec.pod: ${UNSUPPORTED.pods}`,
  },
  {
    method: 'POST',
    path: '/indexes',
    body: { name: 'byoc', dimension: 2, spec: { byoc: { environment: 'aws-us-east-1-b921' } } },
    message: `spec.byoc: ${UNSUPPORTED.byoc}`,
  },
  {
    method: 'POST',
    path: '/indexes',
    body: { name: 'dedicated', dimension: 2, spec: { serverless: { cloud: 'aws', region: 'us-east-1', read_capacity: { mode: 'Dedicated' } } } },
    message: `spec.serverless.read_capacity.mode: ${UNSUPPORTED.dedicatedReadCapacity}`,
  },
  {
    method: 'POST',
    path: '/indexes',
    body: { name: 'restored', dimension: 2, spec: { serverless: { cloud: 'aws', region: 'us-east-1', source_collection: 'c' } } },
    message: `spec.serverless.source_collection: ${UNSUPPORTED.collections}`,
  },
  { method: 'PATCH', path: `/indexes/${INDEX}`, body: { spec: { pod: { replicas: 2 } } }, message: `spec.pod: ${UNSUPPORTED.pods}` },
  {
    method: 'PATCH',
    path: `/indexes/${INDEX}`,
    body: { spec: { serverless: { read_capacity: { mode: 'Dedicated' } } } },
    message: `spec.serverless.read_capacity.mode: ${UNSUPPORTED.dedicatedReadCapacity}`,
  },
  {
    method: 'PATCH',
    path: `/indexes/${INDEX}`,
    body: { read_capacity: { mode: 'Dedicated' } },
    message: `read_capacity.mode: ${UNSUPPORTED.dedicatedReadCapacity}`,
  },
  { method: 'PATCH', path: `/indexes/${INDEX}`, body: { embed: { model: 'x' } }, message: `embed: ${UNSUPPORTED.integratedEmbedding}` },
  // ... and API 2026-07 ones.
  ...(['pod', 'byoc'] as const).map((type) => ({
    method: 'POST',
    path: '/indexes',
    headers: { 'x-pinecone-api-version': '2026-07' },
    body: {
      name: type,
      deployment: { deployment_type: type, environment: 'us-east-1-aws' },
      schema: { fields: { _values: { type: 'dense_vector', dimension: 2, metric: 'cosine' } } },
    },
    message: `deployment.deployment_type: ${type === 'pod' ? UNSUPPORTED.pods : UNSUPPORTED.byoc}`,
  })),
  {
    method: 'POST',
    path: '/indexes',
    headers: { 'x-pinecone-api-version': '2026-07' },
    body: {
      name: 'dedicated',
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      schema: { fields: { _values: { type: 'dense_vector', dimension: 2, metric: 'cosine' } } },
      read_capacity: { mode: 'Dedicated', dedicated: { node_type: 'b1', scaling: 'Manual', manual: { shards: 1, replicas: 1 } } },
    },
    message: `read_capacity.mode: ${UNSUPPORTED.dedicatedReadCapacity}`,
  },
];

/** The data plane's refusals, relative to an index's host. */
const DATA: Case[] = [
  // Bulk import is served (import-routes.ts).
  {
    method: 'POST',
    path: '/records/namespaces/ns/upsert',
    body: { _id: 'a', chunk_text: 'x' },
    headers: { 'content-type': 'application/x-ndjson' },
    message: UNSUPPORTED.textRecords,
  },
  {
    method: 'POST',
    path: '/records/namespaces/ns/search',
    body: { query: { top_k: 1, inputs: { text: 'x' } } },
    message: 'query.inputs: searching by text needs an integrated embedding model, which Conifer does not have; send query.vector or query.id',
  },
  {
    method: 'POST',
    path: '/records/namespaces/ns/search',
    body: { query: { top_k: 1, id: 'a' }, rerank: { model: 'bge-reranker-v2-m3', rank_fields: ['text'], query: 'q' } },
    message: 'rerank: reranking needs a hosted reranking model, which Conifer does not have; send the search without rerank',
  },
  ...['upsert', 'search', 'fetch', 'delete', 'update', 'list'].map((op) => ({
    method: 'POST',
    path: `/namespaces/ns/documents/${op}`,
    headers: { 'x-pinecone-api-version': '2026-07' },
    body: {},
    message: UNSUPPORTED.documents,
  })),
  ...['GET', 'POST'].map((method) => ({
    method,
    path: '/namespace-aliases',
    body: { name: 'live', target_namespace: 'ns' },
    message: UNSUPPORTED.namespaceAliases,
  })),
  ...['GET', 'PATCH', 'DELETE'].map((method) => ({ method, path: '/namespace-aliases/live', body: {}, message: UNSUPPORTED.namespaceAliases })),
  { method: 'GET', path: '/assistant/files/a', message: UNSUPPORTED.assistant },
  { method: 'POST', path: '/assistant/chat/a', body: { messages: [] }, message: UNSUPPORTED.assistant },
];

async function send(base: string, c: Case): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'api-key': TEST_API_KEY, ...c.headers };
  if (c.body !== undefined) headers['content-type'] ??= 'application/json';
  const body = c.body === undefined || c.method === 'GET' ? undefined : JSON.stringify(c.body);
  const response = await fetch(`${base}${c.path}`, { method: c.method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('what Conifer does not support answers 400 UNIMPLEMENTED, the same on every host', () => {
  let server: RunningServer & { stop(): Promise<void> };
  /** The data plane by path (`/projects/{id}/indexes/{name}`) and on the index's own port. */
  let hosts: { byPath: string; byPort: string };

  beforeAll(async () => {
    const range = await freePortRange(4);
    server = await startServer({ CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${range.first}-${range.last}` });
    const created = await send(server.url, { method: 'POST', path: '/indexes', body: { name: INDEX, dimension: 2 }, message: '' });
    expect(created.status).toBe(201);
    const projectId = (await server.server.services!.authenticate(TEST_API_KEY))!.projectId;
    hosts = { byPath: server.url + indexHostPath(projectId, INDEX), byPort: (created.body as { host: string }).host };
    expect(new URL(hosts.byPort).port).not.toBe(new URL(server.url).port);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('on the control plane: { error: { code: "UNIMPLEMENTED", message }, status: 400 }', async () => {
    for (const c of CONTROL) {
      const answer = await send(server.url, c);
      expect({ request: `${c.method} ${c.path}`, ...answer }).toEqual({
        request: `${c.method} ${c.path}`,
        status: 400,
        body: { error: { code: 'UNIMPLEMENTED', message: c.message }, status: 400 },
      });
    }
    // Nothing was created or changed by a refused request.
    const listed = await send(server.url, { method: 'GET', path: '/indexes', message: '' });
    expect((listed.body as { indexes: { name: string }[] }).indexes.map((i) => i.name)).toEqual([INDEX]);
  });

  it('on the data plane, by path and on the index’s port: { code: 12, message, details: [] }', async () => {
    for (const [host, base] of Object.entries(hosts)) {
      for (const c of DATA) {
        const answer = await send(base, c);
        expect({ host, request: `${c.method} ${c.path}`, ...answer }).toEqual({
          host,
          request: `${c.method} ${c.path}`,
          status: 400,
          body: { code: 12, message: c.message, details: [] },
        });
      }
    }
  });

  it('says what is missing in every message, and stays a 404 for an index of another project', async () => {
    for (const { message } of [...CONTROL, ...DATA])
      expect(message).toMatch(/is not supported by Conifer|are not supported by Conifer|which Conifer does not have/);
    const elsewhere = hosts.byPath.replace(/projects\/[^/]+/, 'projects/prj_someone_else');
    expect(await send(elsewhere, { method: 'GET', path: '/namespace-aliases', message: '' })).toMatchObject({
      status: 404,
      body: { code: 5, message: `Index ${INDEX} not found.` },
    });
  });
});
