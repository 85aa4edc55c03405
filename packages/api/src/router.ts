import {
  configureIndexSchema,
  createNamespaceSchema,
  deleteSchema,
  importRefSchema,
  indexRefSchema,
  listImportsSchema,
  namespaceRefSchema,
  startImportSchema,
  statsSchema,
  upsertSchema,
  type ReadOptionsRequest,
} from '@conifer/core';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { apiKeyRefSchema, createApiKeySchema, createProjectSchema, rateLimitScopeSchema, setRateLimitsSchema, usageQuerySchema } from './admin-service.ts';
import { clusterJobsQuerySchema, clusterNamespacesQuerySchema } from './cluster-service.ts';
import {
  fetchByMetadataRequestSchema,
  fetchRequestSchema,
  listNamespacesSchema,
  listRequestSchema,
  queryRequestSchema,
  updateRequestSchema,
} from './data-service.ts';
import { createIndexRequestSchema } from './index-service.ts';
import { backupRefSchema, createBackupSchema, listBackupsSchema } from './backup-service.ts';
import { createIndexFromBackupSchema, listRestoreJobsSchema, restoreJobRefSchema } from './restore-service.ts';
import { createCallerFactory, protectedProcedure as p, router } from './trpc.ts';

/** A read's input split into the request proper and its read options (the service's `read`). */
function splitRead<T extends ReadOptionsRequest>(input: T): [Omit<T, keyof ReadOptionsRequest>, ReadOptionsRequest] {
  const { consistency, minLsn, ...request } = input;
  return [request, { consistency, minLsn }];
}

/**
 * The native API. Each procedure validates its input with the shared schema of `@conifer/core` (or
 * of the service it calls) and calls one service function; reads are queries, everything that
 * changes state is a mutation. Roles are checked by the services. The record reads (query, fetch,
 * fetchByMetadata, list) also take `consistency` and `minLsn` and answer `indexedLsn`.
 */
export function createAppRouter() {
  return router({
    indexes: router({
      create: p.input(createIndexRequestSchema).mutation(({ ctx, input }) => ctx.services.createIndex(ctx.auth, input)),
      list: p.query(({ ctx }) => ctx.services.listIndexes(ctx.auth)),
      describe: p.input(indexRefSchema).query(({ ctx, input }) => ctx.services.describeIndex(ctx.auth, input)),
      configure: p.input(configureIndexSchema).mutation(({ ctx, input }) => ctx.services.configureIndex(ctx.auth, input)),
      delete: p.input(indexRefSchema).mutation(({ ctx, input }) => ctx.services.deleteIndex(ctx.auth, input)),
    }),
    data: router({
      upsert: p.input(upsertSchema).mutation(({ ctx, input }) => ctx.services.upsert(ctx.auth, input)),
      query: p.input(queryRequestSchema).query(({ ctx, input }) => ctx.services.query(ctx.auth, ...splitRead(input))),
      fetch: p.input(fetchRequestSchema).query(({ ctx, input }) => ctx.services.fetch(ctx.auth, ...splitRead(input))),
      fetchByMetadata: p.input(fetchByMetadataRequestSchema).query(({ ctx, input }) => ctx.services.fetchByMetadata(ctx.auth, ...splitRead(input))),
      update: p.input(updateRequestSchema).mutation(({ ctx, input }) => ctx.services.update(ctx.auth, input)),
      delete: p.input(deleteSchema).mutation(({ ctx, input }) => ctx.services.delete(ctx.auth, input)),
      list: p.input(listRequestSchema).query(({ ctx, input }) => ctx.services.list(ctx.auth, ...splitRead(input))),
      stats: p.input(statsSchema).query(({ ctx, input }) => ctx.services.describeIndexStats(ctx.auth, input)),
    }),
    namespaces: router({
      list: p.input(listNamespacesSchema).query(({ ctx, input }) => ctx.services.listNamespaces(ctx.auth, input)),
      create: p.input(createNamespaceSchema).mutation(({ ctx, input }) => ctx.services.createNamespace(ctx.auth, input)),
      describe: p.input(namespaceRefSchema).query(({ ctx, input }) => ctx.services.describeNamespace(ctx.auth, input)),
      delete: p.input(namespaceRefSchema).mutation(({ ctx, input }) => ctx.services.deleteNamespace(ctx.auth, input)),
      internals: p.input(namespaceRefSchema).query(({ ctx, input }) => ctx.services.describeNamespaceInternals(ctx.auth, input)),
    }),
    imports: router({
      start: p.input(startImportSchema).mutation(({ ctx, input }) => ctx.services.startImport(ctx.auth, input)),
      list: p.input(listImportsSchema).query(({ ctx, input }) => ctx.services.listImports(ctx.auth, input)),
      describe: p.input(importRefSchema).query(({ ctx, input }) => ctx.services.describeImport(ctx.auth, input)),
      cancel: p.input(importRefSchema).mutation(({ ctx, input }) => ctx.services.cancelImport(ctx.auth, input)),
    }),
    backups: router({
      create: p.input(createBackupSchema).mutation(({ ctx, input }) => ctx.services.createBackup(ctx.auth, input)),
      list: p.input(listBackupsSchema.prefault({})).query(({ ctx, input }) => ctx.services.listBackups(ctx.auth, input)),
      describe: p.input(backupRefSchema).query(({ ctx, input }) => ctx.services.describeBackup(ctx.auth, input)),
      delete: p.input(backupRefSchema).mutation(({ ctx, input }) => ctx.services.deleteBackup(ctx.auth, input)),
      createIndex: p.input(createIndexFromBackupSchema).mutation(({ ctx, input }) => ctx.services.createIndexFromBackup(ctx.auth, input)),
    }),
    restoreJobs: router({
      list: p.input(listRestoreJobsSchema.prefault({})).query(({ ctx, input }) => ctx.services.listRestoreJobs(ctx.auth, input)),
      describe: p.input(restoreJobRefSchema).query(({ ctx, input }) => ctx.services.describeRestoreJob(ctx.auth, input)),
    }),
    projects: router({
      current: p.query(({ ctx }) => ctx.services.whoami(ctx.auth)),
      list: p.query(({ ctx }) => ctx.services.listProjects(ctx.auth)),
      create: p.input(createProjectSchema).mutation(({ ctx, input }) => ctx.services.createProject(ctx.auth, input)),
    }),
    keys: router({
      list: p.query(({ ctx }) => ctx.services.listApiKeys(ctx.auth)),
      create: p.input(createApiKeySchema).mutation(({ ctx, input }) => ctx.services.createApiKey(ctx.auth, input)),
      revoke: p.input(apiKeyRefSchema).mutation(({ ctx, input }) => ctx.services.revokeApiKey(ctx.auth, input)),
    }),
    usage: router({
      get: p.input(usageQuerySchema).query(({ ctx, input }) => ctx.services.usage(ctx.auth, input)),
    }),
    rateLimits: router({
      get: p.input(rateLimitScopeSchema).query(({ ctx, input }) => ctx.services.rateLimits(ctx.auth, input)),
      set: p.input(setRateLimitsSchema).mutation(({ ctx, input }) => ctx.services.setRateLimits(ctx.auth, input)),
    }),
    cluster: router({
      nodes: p.query(({ ctx }) => ctx.services.clusterNodes(ctx.auth)),
      jobs: p.input(clusterJobsQuerySchema.prefault({})).query(({ ctx, input }) => ctx.services.clusterJobs(ctx.auth, input)),
      namespaces: p.input(clusterNamespacesQuerySchema).query(({ ctx, input }) => ctx.services.clusterNamespaces(ctx.auth, input)),
    }),
  });
}

export const appRouter = createAppRouter();
export type AppRouter = typeof appRouter;
/** Request types of every procedure, e.g. `RouterInputs['data']['upsert']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Response types of every procedure, e.g. `RouterOutputs['data']['query']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** In-process caller, for tests and server-side use: `createCaller({ services, apiKey })`. */
export const createCaller = createCallerFactory(appRouter);
