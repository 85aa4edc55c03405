export { Conifer } from './client.ts';
export { Index } from './index-client.ts';
export type { CallOptions, ConiferOptions } from './transport.ts';
export type { RetryOptions } from './retry.ts';
export { ConnectionError, ForeignResponseError, TimeoutError, toConiferError } from './errors.ts';
export type * from './types.ts';
export {
  ConiferError,
  InvalidArgumentError,
  UnauthenticatedError,
  PermissionDeniedError,
  NotFoundError,
  AlreadyExistsError,
  FailedPreconditionError,
  PayloadTooLargeError,
  ResourceExhaustedError,
  UnavailableError,
  InternalError,
  type ErrorCode,
  type FieldIssue,
} from '@conifer/core/errors';
