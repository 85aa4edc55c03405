import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * A request's logger, made only when something is logged. Fastify gives every request a child of
 * the server's logger (bound to its request id); pino builds a child by copying its bindings and
 * serializers, which costs a query's path more than its auth lookup. Most requests log nothing at
 * the levels operators run (`CONIFER_LOG_LEVEL` info and above, with request lines at debug), so
 * the child is made on the first call of an enabled level, with the same bindings and options.
 */
export class RequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The child logger, made now if it was not yet. */
  get #logger(): Logger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#logger.level = level;
  }

  #log(level: Level, args: unknown[]): void {
    // Until the child exists its level is the parent's: a disabled level needs no child.
    if (this.#child === undefined && !this.#parent.isLevelEnabled(level)) return;
    (this.#logger[level] as (...a: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger.child(bindings, options) as FastifyBaseLogger;
  }
}

/** Fastify's `childLoggerFactory`: a {@link RequestLogger} per request. */
export const lazyRequestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new RequestLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger;

/**
 * Fastify's two lines per request ("incoming request", "request completed") are written when the
 * log level is `debug` or finer: at a query's rate they would cost more than the query, and at
 * `info` a node logs its lifecycle, warnings and failed requests.
 */
export function requestLinesDisabled(logger: Logger): boolean {
  return !logger.isLevelEnabled('debug');
}
