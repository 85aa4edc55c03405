import { formatIssues } from './issue-format.ts';

/**
 * One small error vocabulary shared by every layer. The API maps `code` to an HTTP status and to
 * tRPC codes; the SDK turns it back into these classes, so `instanceof NotFoundError` works on
 * both sides of the wire.
 */
export const ERROR_HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 412,
  PAYLOAD_TOO_LARGE: 413,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

export class ConiferError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }
}

/** One thing wrong with a request: where, and what (naming the limit). */
export interface FieldIssue {
  /** Path from the request's root, e.g. `['records', 3, 'values']`; empty for the request as a whole. */
  readonly path: readonly (string | number)[];
  /** "must have at most 1000 records (got 1001)" */
  readonly message: string;
}

/** An issue as schema libraries report it: zod's path holds keys, standard-schema's may hold `{ key }`. */
export interface SchemaIssue {
  readonly path?: readonly unknown[] | undefined;
  readonly message: string;
}

function fieldIssueOf(issue: SchemaIssue): FieldIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null && 'key' in segment ? (segment as { key: unknown }).key : segment;
    return typeof key === 'number' ? key : String(key);
  });
  return { path, message: issue.message };
}

/** Field issues received over the wire, kept only when they have the expected shape. */
export function parseFieldIssues(value: unknown): FieldIssue[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const issues: FieldIssue[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { path, message } = item as { path?: unknown; message?: unknown };
    if (typeof message !== 'string' || !Array.isArray(path)) return undefined;
    if (!path.every((p): p is string | number => typeof p === 'string' || typeof p === 'number')) return undefined;
    issues.push({ path, message });
  }
  return issues;
}

/**
 * Bad input (HTTP 400). Raised for fields, it keeps them as `issues` beside the message, so a face
 * that names a field differently (the Pinecone routes call `records` `vectors`) renames the path
 * and rebuilds the message with `withPaths` instead of rewriting message strings.
 */
export class InvalidArgumentError extends ConiferError {
  /** The fields at fault; empty when the error is about no particular field. */
  readonly issues: readonly FieldIssue[];

  constructor(message: string, options?: { cause?: unknown; issues?: readonly FieldIssue[] | undefined }) {
    super('INVALID_ARGUMENT', message, options);
    this.issues = options?.issues ?? [];
  }

  /** "records[3].values: <message>" — the field at fault and what is wrong with it. */
  static at(path: readonly (string | number)[], message: string, options?: { cause?: unknown }): InvalidArgumentError {
    return InvalidArgumentError.of([{ path, message }], options);
  }

  /** One error for several issues (a schema failure); the message lists the first few. */
  static of(issues: readonly FieldIssue[], options?: { cause?: unknown }): InvalidArgumentError {
    return new InvalidArgumentError(formatIssues(issues), { ...options, issues });
  }

  /** From a schema library's issues (zod, standard-schema): paths of property keys or `{ key }` segments. */
  static fromSchema(issues: readonly SchemaIssue[], options?: { cause?: unknown }): InvalidArgumentError {
    return InvalidArgumentError.of(issues.map(fieldIssueOf), options);
  }

  /** The same error with every issue's path mapped, the message rebuilt; itself when it names no field. */
  withPaths(map: (path: readonly (string | number)[]) => readonly (string | number)[]): InvalidArgumentError {
    if (this.issues.length === 0) return this;
    const issues = this.issues.map((issue) => ({ path: map(issue.path), message: issue.message }));
    return InvalidArgumentError.of(issues, this.cause === undefined ? undefined : { cause: this.cause });
  }
}
export class UnauthenticatedError extends ConiferError {
  constructor(message = 'Missing or invalid API key.') {
    super('UNAUTHENTICATED', message);
  }
}
export class PermissionDeniedError extends ConiferError {
  constructor(message: string) {
    super('PERMISSION_DENIED', message);
  }
}
export class NotFoundError extends ConiferError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
export class AlreadyExistsError extends ConiferError {
  constructor(message: string) {
    super('ALREADY_EXISTS', message);
  }
}
export class FailedPreconditionError extends ConiferError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}
export class PayloadTooLargeError extends ConiferError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message);
  }
}
export class ResourceExhaustedError extends ConiferError {
  constructor(message: string) {
    super('RESOURCE_EXHAUSTED', message);
  }
}
export class UnavailableError extends ConiferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}
/**
 * A write refused because another writer took the namespace over. `written: false` — nothing was
 * written, so the write can be retried on the new owner as it is; `written: true` — it reached the
 * log but was not acknowledged, and may or may not be applied (as after a crash).
 */
export class FencedError extends UnavailableError {
  readonly written: boolean;
  constructor(message: string, options: { written: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.written = options.written;
  }
}
export class InternalError extends ConiferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', message, options);
  }
}

const CLASSES: Record<ErrorCode, new (message: string) => ConiferError> = {
  INVALID_ARGUMENT: InvalidArgumentError,
  UNAUTHENTICATED: UnauthenticatedError,
  PERMISSION_DENIED: PermissionDeniedError,
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  FAILED_PRECONDITION: FailedPreconditionError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RESOURCE_EXHAUSTED: ResourceExhaustedError,
  INTERNAL: InternalError,
  UNAVAILABLE: UnavailableError,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in ERROR_HTTP_STATUS;
}

/** Rebuilds the typed error for a code received over the wire (with its field issues, for bad input). */
export function errorFromCode(code: ErrorCode, message: string, issues?: readonly FieldIssue[]): ConiferError {
  if (code === 'INVALID_ARGUMENT') return new InvalidArgumentError(message, { issues });
  return new CLASSES[code](message);
}
