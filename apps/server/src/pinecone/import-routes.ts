import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError, MAX_IMPORT_ID_LENGTH, MAX_IMPORT_URI_LENGTH } from '@conifer/core';
import type { Services } from '@conifer/api';
import { authOf, bodyOf, queryInt, queryParam } from './plugin-support.ts';

function stringField(body: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw InvalidArgumentError.at([field], 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0) throw InvalidArgumentError.at([field], 'must be a non-empty string');
  if (value.length > max) throw InvalidArgumentError.at([field], `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw InvalidArgumentError.at([field], 'must not contain control characters');
  return value;
}

function errorModeOf(body: Record<string, unknown>): 'abort' | 'continue' | undefined {
  const mode = body['errorMode'];
  if (mode === undefined) return undefined;
  if (typeof mode !== 'object' || mode === null || Array.isArray(mode)) {
    throw InvalidArgumentError.at(['errorMode'], 'must be an object {"onError": "abort" | "continue"}');
  }
  const onError = (mode as Record<string, unknown>)['onError'];
  if (onError === undefined) return undefined;
  if (onError === 'abort' || onError === 'continue') return onError;
  throw InvalidArgumentError.at(['errorMode', 'onError'], 'must be "abort" or "continue"');
}

/** Printable ASCII: what import ids are made of (a NUL would reach the database). */
const PRINTABLE = /^[\x20-\x7e]+$/;

function idOf(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  if (id.length === 0 || id.length > MAX_IMPORT_ID_LENGTH || !PRINTABLE.test(id)) {
    throw InvalidArgumentError.at(['id'], `must be 1–${MAX_IMPORT_ID_LENGTH} printable ASCII characters`);
  }
  return id;
}

/**
 * Pinecone's bulk import on an index's data plane (`/bulk/imports`, `/bulk/imports/{id}`): start
 * (write keys), list, describe, cancel (write keys). The imports run in the background on this
 * node (`packages/api/src/import-service.ts`).
 */
export function registerImports(app: FastifyInstance, options: { services: Services; indexOf: (request: FastifyRequest) => string }): void {
  const { services, indexOf } = options;

  app.post('/bulk/imports', async (request) => {
    const index = indexOf(request);
    const body = bodyOf(request);
    // The other fields first: a request wrong in several places is told about one it can see.
    const errorMode = errorModeOf(body);
    if (body['integrationId'] !== undefined) {
      throw InvalidArgumentError.at(['integrationId'], 'storage integrations are not supported; the server reads the URI with its own cloud credentials');
    }
    const uri = stringField(body, 'uri', MAX_IMPORT_URI_LENGTH, true)!;
    return services.startImport(authOf(request), { index, uri, errorMode });
  });

  app.get('/bulk/imports', async (request) => {
    const index = indexOf(request);
    const page = await services.listImports(authOf(request), {
      index,
      limit: queryInt(request, 'limit'),
      paginationToken: queryParam(request, 'paginationToken') || undefined,
    });
    return { data: page.data, ...(page.pagination ? { pagination: page.pagination } : {}) };
  });

  app.get('/bulk/imports/:id', async (request) => services.describeImport(authOf(request), { index: indexOf(request), id: idOf(request) }));

  app.delete('/bulk/imports/:id', async (request) => {
    await services.cancelImport(authOf(request), { index: indexOf(request), id: idOf(request) });
    return {};
  });
}
