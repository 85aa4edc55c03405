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

export class InvalidArgumentError extends ConiferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
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

/** Rebuilds the typed error for a code received over the wire. */
export function errorFromCode(code: ErrorCode, message: string): ConiferError {
  return new CLASSES[code](message);
}
