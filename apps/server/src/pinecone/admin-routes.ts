import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  apiKeyRefSchema,
  clusterJobsQuerySchema,
  clusterNamespacesQuerySchema,
  createApiKeySchema,
  createProjectSchema,
  rateLimitOverridesSchema,
  rateLimitScopeSchema,
  usageQuerySchema,
  type Services,
} from '@conifer/api';
import { parseWith, useControlPlaneErrors } from './errors.ts';
import { acceptJsonBodies, authOf, bodyOf, queryInt, queryList, queryParam, requireApiKey } from './plugin-support.ts';

/** Where the administration API is mounted. */
export const ADMIN_PREFIX = '/admin';

/**
 * Conifer's administration API (not part of Pinecone's): projects, API keys, usage, rate limits
 * and the cluster (nodes, index-build jobs, namespace ownership), over the same services as the
 * tRPC procedures `projects.*`, `keys.*`, `usage.get`, `rateLimits.*` and `cluster.*`, with the
 * same camelCase JSON. Keys and usage belong to the caller's project and
 * need an admin key; creating projects and setting rate limits need an admin key of the operator
 * project. Errors use the control-plane shape.
 */
export function registerAdmin(app: FastifyInstance, options: { services: Services }): void {
  const { services } = options;
  useControlPlaneErrors(app);
  acceptJsonBodies(app);
  requireApiKey(app, services);

  app.get('/whoami', async (request) => services.whoami(authOf(request)));

  app.get('/projects', async (request) => services.listProjects(authOf(request)));

  app.post('/projects', async (request, reply) => {
    const created = await services.createProject(authOf(request), parseWith(createProjectSchema, bodyOf(request)));
    return reply.code(201).send(created);
  });

  app.get('/api-keys', async (request) => services.listApiKeys(authOf(request)));

  app.post('/api-keys', async (request, reply) => {
    const created = await services.createApiKey(authOf(request), parseWith(createApiKeySchema, bodyOf(request)));
    return reply.code(201).send(created);
  });

  app.delete('/api-keys/:id', async (request) => {
    const { id } = request.params as { id: string };
    return services.revokeApiKey(authOf(request), parseWith(apiKeyRefSchema, { id }, { id: 'keyId' }));
  });

  app.get('/cluster/nodes', async (request) => services.clusterNodes(authOf(request)));

  app.get('/cluster/jobs', async (request) => {
    // Several states as `?state=pending&state=running`; an empty `?state=` names no state: refused.
    const states = queryList(request, 'state');
    const input = parseWith(clusterJobsQuerySchema, { state: states.length === 0 ? undefined : states, limit: queryInt(request, 'limit') });
    return services.clusterJobs(authOf(request), input);
  });

  app.get('/cluster/namespaces', async (request) => {
    const input = parseWith(clusterNamespacesQuerySchema, { index: queryParam(request, 'index'), limit: queryInt(request, 'limit') });
    return services.clusterNamespaces(authOf(request), input);
  });

  app.get('/usage', async (request) => {
    const input = parseWith(usageQuerySchema, {
      // An empty `?from=` is not a date: refused, like any other that is not.
      from: queryParam(request, 'from'),
      to: queryParam(request, 'to'),
      index: queryParam(request, 'index'),
    });
    return services.usage(authOf(request), input);
  });

  // Rate limits of a project (`/projects/{id}/rate-limits`) or of one of its indexes
  // (`/projects/{id}/indexes/{name}/rate-limits`); PUT replaces the overrides with its body.
  const scopeOf = (request: FastifyRequest) => {
    const { projectId, indexName } = request.params as { projectId: string; indexName?: string };
    return parseWith(rateLimitScopeSchema, { projectId, ...(indexName === undefined ? {} : { index: indexName }) });
  };
  const readLimits = async (request: FastifyRequest) => services.rateLimits(authOf(request), scopeOf(request));
  const replaceLimits = async (request: FastifyRequest) => {
    const scope = scopeOf(request);
    return services.setRateLimits(authOf(request), { ...scope, limits: parseWith(rateLimitOverridesSchema, bodyOf(request)) });
  };
  app.get('/projects/:projectId/rate-limits', readLimits);
  app.put('/projects/:projectId/rate-limits', replaceLimits);
  app.get('/projects/:projectId/indexes/:indexName/rate-limits', readLimits);
  app.put('/projects/:projectId/indexes/:indexName/rate-limits', replaceLimits);
}
