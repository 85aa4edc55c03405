export type { LogEntry, LogOp, PutRecord } from './entry.ts';
export { encodeLogBatch, decodeLogBatch, LogCorruptionError } from './codec.ts';
export { RequestLog, DEFAULT_MAX_BATCH_ENTRIES, type RequestLogOptions, type Appended } from './request-log.ts';
export { firstObjectAfter, logKey, readLogRun, readLogTail, LOG_READ_AHEAD, type LogTail } from './log-reader.ts';
