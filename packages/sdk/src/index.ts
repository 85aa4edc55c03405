export { Conifer } from './client.ts';
export { Index } from './index-client.ts';
export type { ConiferOptions } from './transport.ts';
export { ConnectionError, toConiferError } from './errors.ts';
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
} from '@conifer/core';
