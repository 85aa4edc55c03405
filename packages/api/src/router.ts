import {
  configureIndexSchema,
  createIndexSchema,
  deleteSchema,
  fetchSchema,
  indexRefSchema,
  listSchema,
  namespaceRefSchema,
  querySchema,
  statsSchema,
  updateSchema,
  upsertSchema,
} from '@conifer/core';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createCallerFactory, protectedProcedure as p, router } from './trpc.ts';

/**
 * The native API. Each procedure validates its input with the shared schema of `@conifer/core` and
 * calls one service function; reads are queries, everything that changes state is a mutation.
 */
export function createAppRouter() {
  return router({
    indexes: router({
      create: p.input(createIndexSchema).mutation(({ ctx, input }) => ctx.services.createIndex(ctx.auth, input)),
      list: p.query(({ ctx }) => ctx.services.listIndexes(ctx.auth)),
      describe: p.input(indexRefSchema).query(({ ctx, input }) => ctx.services.describeIndex(ctx.auth, input)),
      configure: p.input(configureIndexSchema).mutation(({ ctx, input }) => ctx.services.configureIndex(ctx.auth, input)),
      delete: p.input(indexRefSchema).mutation(({ ctx, input }) => ctx.services.deleteIndex(ctx.auth, input)),
    }),
    data: router({
      upsert: p.input(upsertSchema).mutation(({ ctx, input }) => ctx.services.upsert(ctx.auth, input)),
      query: p.input(querySchema).query(({ ctx, input }) => ctx.services.query(ctx.auth, input)),
      fetch: p.input(fetchSchema).query(({ ctx, input }) => ctx.services.fetch(ctx.auth, input)),
      update: p.input(updateSchema).mutation(({ ctx, input }) => ctx.services.update(ctx.auth, input)),
      delete: p.input(deleteSchema).mutation(({ ctx, input }) => ctx.services.delete(ctx.auth, input)),
      list: p.input(listSchema).query(({ ctx, input }) => ctx.services.list(ctx.auth, input)),
      stats: p.input(statsSchema).query(({ ctx, input }) => ctx.services.describeIndexStats(ctx.auth, input)),
    }),
    namespaces: router({
      list: p.input(statsSchema).query(({ ctx, input }) => ctx.services.listNamespaces(ctx.auth, input)),
      delete: p.input(namespaceRefSchema).mutation(({ ctx, input }) => ctx.services.deleteNamespace(ctx.auth, input)),
      describe: p.input(namespaceRefSchema).query(({ ctx, input }) => ctx.services.describeNamespaceInternals(ctx.auth, input)),
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
