import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { ConiferError, ERROR_HTTP_STATUS, InvalidArgumentError, LIMITS, type ErrorCode, type FieldIssue, type SchemaIssue } from '@conifer/core';

/**
 * The one translation table between Conifer's error vocabulary (`@conifer/core` errors) and
 * tRPC's. Services throw `ConiferError`s; the router turns them into `TRPCError`s with the matching
 * code (so the HTTP status is right), and the error formatter puts the Conifer code back into the
 * wire shape's `data.code` so the SDK can rebuild the exact class.
 */
export const TRPC_CODE_OF: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  INVALID_ARGUMENT: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  PERMISSION_DENIED: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'CONFLICT',
  FAILED_PRECONDITION: 'PRECONDITION_FAILED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RESOURCE_EXHAUSTED: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** Conifer code of a tRPC error that did not come from a `ConiferError` (tRPC's own failures). */
const CONIFER_CODE_OF: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: 'INVALID_ARGUMENT',
  BAD_REQUEST: 'INVALID_ARGUMENT',
  METHOD_NOT_SUPPORTED: 'INVALID_ARGUMENT',
  UNPROCESSABLE_CONTENT: 'INVALID_ARGUMENT',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_ARGUMENT',
  // The body limit is reported as a 400 naming the limit, like every other request limit.
  PAYLOAD_TOO_LARGE: 'INVALID_ARGUMENT',
  UNAUTHORIZED: 'UNAUTHENTICATED',
  FORBIDDEN: 'PERMISSION_DENIED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'ALREADY_EXISTS',
  PRECONDITION_FAILED: 'FAILED_PRECONDITION',
  TOO_MANY_REQUESTS: 'RESOURCE_EXHAUSTED',
  SERVICE_UNAVAILABLE: 'UNAVAILABLE',
};

/** What clients see instead of the message of an unexpected error. */
export const INTERNAL_MESSAGE = 'Internal server error.';

/** "request body is larger than the 2 MB limit (2097152 bytes)" */
/** What a request body that is not JSON is told, with the parser's reason (every face words it so). */
export function malformedJsonMessage(reason: string): string {
  return `malformed JSON in request body: ${reason}`;
}

export const BODY_TOO_LARGE_MESSAGE = `request body is larger than the ${LIMITS.maxRequestBytes / (1024 * 1024)} MB limit (${LIMITS.maxRequestBytes} bytes)`;

export const MISSING_KEY_MESSAGE = 'Missing or invalid API key.';

/** A schema library's validation failure (zod's `ZodError`, a standard-schema failure). */
function hasSchemaIssues(cause: unknown): cause is { issues: SchemaIssue[] } {
  if (typeof cause !== 'object' || cause === null || !('issues' in cause)) return false;
  const issues = (cause as { issues: unknown }).issues;
  return (
    Array.isArray(issues) &&
    issues.every((issue) => typeof issue === 'object' && issue !== null && typeof (issue as { message?: unknown }).message === 'string')
  );
}

/**
 * Normalizes any error a procedure produced into the `TRPCError` the client should see:
 * - a `ConiferError` (thrown by a service) gets the tRPC code of its Conifer code;
 * - an input-validation failure becomes an `InvalidArgumentError` with its field issues
 *   (message "records[0].values: ...");
 * - a malformed JSON body gets a message saying so.
 * The original error stays available as `cause` for the error formatter and for logging.
 */
export function toTRPCError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof ConiferError) {
    if (error.code === TRPC_CODE_OF[cause.code] && error.message === cause.message) return error;
    return new TRPCError({ code: TRPC_CODE_OF[cause.code], message: cause.message, cause });
  }
  if (error.code === 'BAD_REQUEST') {
    if (hasSchemaIssues(cause)) {
      const invalid = InvalidArgumentError.fromSchema(cause.issues, { cause });
      return new TRPCError({ code: 'BAD_REQUEST', message: invalid.message, cause: invalid });
    }
    if (cause instanceof SyntaxError) {
      return new TRPCError({ code: 'BAD_REQUEST', message: malformedJsonMessage(cause.message), cause });
    }
  }
  if (error.code === 'PAYLOAD_TOO_LARGE') return new TRPCError({ code: 'BAD_REQUEST', message: BODY_TOO_LARGE_MESSAGE, cause: error });
  return error;
}

/** Conifer code for the wire: from the `ConiferError` behind the error, else from the tRPC code. */
export function coniferCodeOf(error: TRPCError): ErrorCode {
  if (error.cause instanceof ConiferError) return error.cause.code;
  return CONIFER_CODE_OF[error.code] ?? 'INTERNAL';
}

/** The `error` object of a tRPC response: message, JSON-RPC code and Conifer data. */
export interface ConiferErrorData {
  /** Conifer error code; the SDK rebuilds the matching class from it. */
  code: ErrorCode;
  httpStatus: number;
  /** Procedure path, e.g. "data.upsert". */
  path?: string;
  /** For bad input: each field at fault (path from the input's root) and what is wrong with it. */
  issues?: FieldIssue[];
}

/**
 * The error formatter: the Conifer code in `data.code`, the HTTP status that goes with it, and
 * never a stack trace or the message of an unexpected (internal) error.
 */
export function formatErrorShape(opts: { error: TRPCError; path: string | undefined }): { message: string; code: number; data: ConiferErrorData } {
  const error = toTRPCError(opts.error);
  const code = coniferCodeOf(error);
  const message = code === 'INTERNAL' ? INTERNAL_MESSAGE : error.message;
  const data: ConiferErrorData = { code, httpStatus: ERROR_HTTP_STATUS[code] };
  if (error.code === 'METHOD_NOT_SUPPORTED') data.httpStatus = 405;
  if (opts.path !== undefined) data.path = opts.path;
  if (error.cause instanceof InvalidArgumentError && error.cause.issues.length > 0) data.issues = [...error.cause.issues];
  return { message, code: TRPC_ERROR_CODES_BY_KEY[error.code], data };
}
