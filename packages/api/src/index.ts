export { createAppRouter, appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from './router.ts';
export { createContext, type Context } from './trpc.ts';
export { createServices, type Services, type ServiceDeps } from './services.ts';
export { resumeIndexDeletions, type CreateIndexRequest, type ConfigureIndexRequest } from './index-service.ts';
export type { IndexRef, NamespaceRef } from './data-service.ts';
export { apiKeyFromHeaders, type AuthContext, type Role, type HeaderBag } from './auth.ts';
export {
  BODY_TOO_LARGE_MESSAGE,
  INTERNAL_MESSAGE,
  MISSING_KEY_MESSAGE,
  TRPC_CODE_OF,
  coniferCodeOf,
  formatErrorShape,
  toTRPCError,
  type ConiferErrorData,
} from './errors.ts';
