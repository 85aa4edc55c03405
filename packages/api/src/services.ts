import type { ControlPlane } from '@conifer/control';
import type { DataPlane } from '@conifer/engine';
import type { AuthContext } from './auth.ts';
import { createDataService, type DataService } from './data-service.ts';
import { createIndexService, type IndexService } from './index-service.ts';

/**
 * The service layer: every operation of the public API, as plain async functions taking the
 * caller's `AuthContext` and an already-validated request. The tRPC router and the
 * Pinecone-compatible REST API are two faces over these same functions; neither holds business
 * logic of its own.
 */
export interface Services extends IndexService, DataService {
  /** The caller behind a raw API key, or null when the key is unknown or revoked. */
  authenticate(rawKey: string): Promise<AuthContext | null>;
}

export interface ServiceDeps {
  control: ControlPlane;
  data: DataPlane;
}

/**
 * @example
 * const services = createServices({ control, data: engine });
 * const auth = await services.authenticate(key);
 * if (auth) await services.createIndex(auth, { name: 'docs', dimension: 3, metric: 'cosine', deletionProtection: 'disabled' });
 */
export function createServices(deps: ServiceDeps): Services {
  return {
    authenticate: (rawKey) => deps.control.authenticate(rawKey),
    ...createIndexService(deps),
    ...createDataService(deps),
  };
}
