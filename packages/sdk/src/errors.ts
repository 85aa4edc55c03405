import { TRPCClientError } from '@trpc/client';
import { ERROR_HTTP_STATUS, InternalError, UnavailableError, errorFromCode, isErrorCode, parseFieldIssues, type ErrorCode } from '@conifer/core/errors';
import type { ConiferRouter } from './contract.ts';

/**
 * The server could not be reached (connection refused, DNS failure, reset...). A kind of
 * `UnavailableError`: retrying later may succeed.
 */
export class ConnectionError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The call had no answer within its time limit (`timeoutMs`). A kind of `UnavailableError`: a
 * write that timed out may or may not have been applied, and retrying it is safe.
 */
export class TimeoutError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A response that is not a Conifer answer (no JSON): a proxy's error page, a wrong URL. */
export class ForeignResponseError extends Error {
  readonly status: number;
  /** The answer's `Retry-After` header, if any (a proxy's 503 may say when to come back). */
  readonly retryAfter: string | null;
  constructor(status: number, retryAfter: string | null = null) {
    super(`HTTP ${status} without a Conifer response body`);
    this.name = 'ForeignResponseError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const CODE_OF_STATUS = new Map<number, ErrorCode>(Object.entries(ERROR_HTTP_STATUS).map(([code, status]) => [status, code as ErrorCode]));

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return 'network error';
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
  return `${cause.message}${inner}`;
}

/**
 * Turns whatever a call threw into the matching Conifer error class: the server's
 * `data.code` picks the class and its message (and, for bad input, `data.issues`) is kept; a failure without a response is a
 * `ConnectionError`; a non-Conifer response (a proxy's 502 page) is classed by its HTTP status.
 */
export function toConiferError(error: unknown, url: string): unknown {
  if (!(error instanceof TRPCClientError)) return error;
  const clientError = error as TRPCClientError<ConiferRouter>;
  const code: unknown = clientError.data?.code;
  if (isErrorCode(code)) return errorFromCode(code, clientError.message, parseFieldIssues((clientError.data as { issues?: unknown } | undefined)?.issues));
  const cause = clientError.cause;
  if (cause instanceof ForeignResponseError) {
    if (cause.status >= 500) return new UnavailableError(`Conifer server at ${url} answered HTTP ${cause.status}`, { cause: clientError });
    const byStatus = CODE_OF_STATUS.get(cause.status);
    if (byStatus !== undefined) return errorFromCode(byStatus, `Conifer server at ${url} answered HTTP ${cause.status}`);
  } else if (clientError.shape === undefined) {
    return new ConnectionError(`Could not reach the Conifer server at ${url} (${describeCause(cause)})`, { cause: clientError });
  }
  return new InternalError(clientError.message, { cause: clientError });
}
