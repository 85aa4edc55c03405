export * from './entry.ts';
export { encodeLogBatch, decodeLogBatch, LogCorruptionError } from './codec.ts';
export { RequestLog, logKey, type RequestLogOptions, type Appended } from './request-log.ts';
