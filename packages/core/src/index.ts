export * from './limits.ts';
export * from './errors.ts';
export * from './metric.ts';
export * from './float.ts';
export * from './metadata.ts';
export * from './filter.ts';
export * from './schemas.ts';
export * from './results.ts';
