import { initTRPC, TRPCError } from '@trpc/server';
import { MISSING_KEY_MESSAGE, formatErrorShape, toTRPCError } from './errors.ts';
import { apiKeyFromHeaders, type HeaderBag } from './auth.ts';
import type { Services } from './services.ts';

/** Per-request context: the services and the raw API key the request presented (if any). */
export interface Context {
  services: Services;
  apiKey: string | undefined;
}

/** Builds the context of one request from its headers (`Api-Key` or `Authorization: Bearer`). */
export function createContext(services: Services, headers: HeaderBag): Context {
  return { services, apiKey: apiKeyFromHeaders(headers) };
}

const t = initTRPC.context<Context>().create({
  errorFormatter: ({ error, path }) => formatErrorShape({ error, path }),
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure goes through this: a `ConiferError` thrown by a service becomes the `TRPCError`
 * with the matching code, and an input-validation failure gets a message naming field and limit.
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

export const publicProcedure = t.procedure.use(mapErrors);

/** Requires a valid API key; adds `ctx.auth` (project, key id, role). Runs before input parsing. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const auth = ctx.apiKey === undefined ? null : await ctx.services.authenticate(ctx.apiKey);
  if (!auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: MISSING_KEY_MESSAGE });
  return next({ ctx: { auth } });
});
