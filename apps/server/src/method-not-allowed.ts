import FindMyWay from 'find-my-way';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type Method = FindMyWay.HTTPMethod;

/**
 * Answers a request whose path is a route, but not for its method, with 405 Method Not Allowed and
 * an `Allow` header naming the methods the path has (RFC 9110 §15.5.6), instead of the 404 Fastify
 * gives: a client that sent `PUT /indexes/docs` learns it should have sent `PATCH`, not that the
 * index is missing. `OPTIONS` gets the same answer, which is how a client discovers the methods.
 *
 * Fastify's router is not public, so the routes are also registered, as they are added, in a
 * router of the same library that only answers "which methods match this path". Must be installed
 * before any route is added.
 */
export function installMethodNotAllowed(
  app: FastifyInstance,
  options: { maxParamLength: number; send: (request: FastifyRequest, reply: FastifyReply, allowed: string[]) => FastifyReply },
): void {
  const routes = FindMyWay({ maxParamLength: options.maxParamLength });
  const added = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // Fastify adds a HEAD route next to each GET one, which may also be declared by hand.
      const key = `${method} ${route.url}`;
      if (added.has(key)) continue;
      added.add(key);
      routes.on(method as Method, route.url, () => undefined);
    }
  });
  // onRequest runs before the body is read: a method Fastify would try to parse a body for (QUERY
  // without a content type) must still get 405, not a body-parsing error.
  // A callback hook: every request passes it, and almost all of them find their route.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split('?')[0]!;
    const allowed = app.supportedMethods.filter((method) => method !== request.method && routes.find(method as Method, path) !== null);
    if (allowed.length === 0) return done();
    // Answered here: the request goes no further (done is not called).
    options.send(request, reply, allowed.sort());
  });
}
