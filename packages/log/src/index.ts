export type { LogEntry, LogOp, PutRecord } from './entry.ts';
export { encodeLogBatch, decodeLogBatch, LogCorruptionError } from './codec.ts';
export { RequestLog, logKey, DEFAULT_MAX_BATCH_ENTRIES, type RequestLogOptions, type Appended } from './request-log.ts';
