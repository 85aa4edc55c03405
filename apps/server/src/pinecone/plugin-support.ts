import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError, UnauthenticatedError } from '@conifer/core';
import { apiKeyFromHeaders, type AuthContext, type Services } from '@conifer/api';

const authByRequest = new WeakMap<FastifyRequest, AuthContext>();

/**
 * Authenticates every request of the plugin before its body is read: the `Api-Key` header (or
 * `Authorization: Bearer`) must name an active key, else 401.
 */
export function requireApiKey(app: FastifyInstance, services: Services): void {
  app.addHook('onRequest', async (request) => {
    const key = apiKeyFromHeaders(request.headers);
    const auth = key === undefined ? null : await services.authenticate(key);
    if (auth === null) throw new UnauthenticatedError();
    authByRequest.set(request, auth);
  });
}

/** The caller of a request that passed `requireApiKey`. */
export function authOf(request: FastifyRequest): AuthContext {
  const auth = authByRequest.get(request);
  if (auth === undefined) throw new UnauthenticatedError();
  return auth;
}

/**
 * JSON bodies for the Pinecone faces: an empty body reads as `{}` (some clients send a JSON
 * content type on bodiless DELETEs) — empty, not blank: whitespace alone is not JSON — and a
 * body sent without a JSON content type (`curl -d` defaults to form encoding) is still read as
 * JSON. `JSON.parse` defines `__proto__` as an ordinary own key, so metadata may use it without
 * touching any prototype.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(error as SyntaxError, undefined);
    }
  });
}

/**
 * The JSON object body of a request (`{}` when there was none); anything else, a literal `null`
 * included, is a 400.
 */
export function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body === undefined ? {} : request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** One query-string parameter as a string (the first, if repeated), or undefined. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A repeated query-string parameter (`?ids=a&ids=b`) as a list; absent → []. */
export function queryList(request: FastifyRequest, name: string): string[] {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** An integer query-string parameter; a non-integer, an empty `?limit=` included, is a 400 naming it. */
export function queryInt(request: FastifyRequest, name: string): number | undefined {
  const value = queryParam(request, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name}: must be an integer`);
  return Number(value);
}
