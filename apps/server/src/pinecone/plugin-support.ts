import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { InvalidArgumentError, UnauthenticatedError } from '@conifer/core';
import { apiKeyFromHeaders, type AuthContext, type Services } from '@conifer/api';

const authByRequest = new WeakMap<FastifyRequest, AuthContext>();

/**
 * Authenticates every request of the plugin before its body is read: the `Api-Key` header (or
 * `Authorization: Bearer`) must name an active key, else 401. A callback hook answered from the
 * key cache when it can: no promise for the usual request.
 */
export function requireApiKey(app: FastifyInstance, services: Services): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const key = apiKeyFromHeaders(request.headers);
    if (key === undefined) return done(new UnauthenticatedError());
    const cached = services.authenticateCached(key);
    if (cached !== undefined) {
      authByRequest.set(request, cached);
      return done();
    }
    services.authenticate(key).then((auth) => {
      if (auth === null) return done(new UnauthenticatedError());
      authByRequest.set(request, auth);
      done();
    }, done);
  });
}

/** The caller of a request that passed `requireApiKey`. */
export function authOf(request: FastifyRequest): AuthContext {
  const auth = authByRequest.get(request);
  if (auth === undefined) throw new UnauthenticatedError();
  return auth;
}

/**
 * A request body as it arrived: its chunks, joined only when someone needs it whole (into a lent
 * buffer: body-buffers.ts).
 */
export class RawBody {
  readonly chunks: readonly Buffer[];
  readonly length: number;
  constructor(chunks: readonly Buffer[], length: number) {
    this.chunks = chunks;
    this.length = length;
  }
}

/**
 * JSON bodies for the Pinecone faces: an empty body reads as `{}` (some clients send a JSON
 * content type on bodiless DELETEs) — empty, not blank: whitespace alone is not JSON — and a
 * body sent without a JSON content type (`curl -d` defaults to form encoding) is still read as
 * JSON. `JSON.parse` defines `__proto__` as an ordinary own key, never a prototype (the metadata
 * schema then refuses such a key by name).
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
 * Bodies of any content type kept as the chunks they arrived in ({@link rawBodyOf}), for a scope
 * whose routes may forward them without reading them — a cluster gateway sends an upsert's chunks
 * on to the writer as they are. The same limits as Fastify's own reading: the route's body limit
 * (checked against Content-Length first, then as bytes arrive) and a Content-Length that must match.
 * `contentType` limits the scope to bodies of that type (others get 415).
 */
export function acceptRawBodies(app: FastifyInstance, contentType = '*'): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(contentType, (request, payload, done) => {
    const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit;
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (error: Error | null, body?: RawBody) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      done(error, body);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      if (length > limit) finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      else chunks.push(bytes);
    };
    const onEnd = () => {
      if (!Number.isNaN(declared) && declared !== length) finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      else finish(null, new RawBody(chunks, length));
    };
    const onError = (error: Error & { statusCode?: number }) => {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      finish(error);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}

/** The body on a route of an {@link acceptRawBodies} scope (empty when the request had none). */
export function rawBodyOf(request: FastifyRequest): RawBody {
  return request.body instanceof RawBody ? request.body : new RawBody([], 0);
}

/**
 * The JSON object body of a request (`{}` when there was none); anything else, a literal `null`
 * included, is a 400.
 */
export function bodyOf(request: FastifyRequest): Record<string, unknown> {
  return jsonObject(request.body === undefined ? {} : request.body);
}

/** A parsed body as the JSON object it must be; anything else, a literal `null` included, is a 400. */
export function jsonObject(body: unknown): Record<string, unknown> {
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
