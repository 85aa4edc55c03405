import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

/**
 * Paths pino blanks out in every log line: API keys must never reach log aggregation, whichever
 * header carried them and whichever serializer logged the request.
 */
export const REDACTED_PATHS = [
  'req.headers["api-key"]',
  'req.headers.authorization',
  'request.headers["api-key"]',
  'request.headers.authorization',
  'headers["api-key"]',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
];

/** The process logger (JSON lines, stdout by default), shared by Fastify and the engine. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'conifer' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
