import { describe, expect, it } from 'vitest';
import { parseHeapMetrics } from './sampler.ts';
import { serverEnv } from './run.ts';
import type { RunningBackend } from './backends.ts';

describe('parseHeapMetrics', () => {
  it('reads the heap figures of a Prometheus exposition', () => {
    const text = [
      '# HELP nodejs_heap_size_total_bytes Process heap size from Node.js in bytes.',
      '# TYPE nodejs_heap_size_total_bytes gauge',
      'nodejs_heap_size_total_bytes 104857600',
      'nodejs_heap_size_used_bytes 52428800',
      'nodejs_external_memory_bytes 1048576',
      'nodejs_heap_space_size_used_bytes{space="old"} 123',
    ].join('\n');
    expect(parseHeapMetrics(text)).toEqual({ heapTotalBytes: 104857600, heapUsedBytes: 52428800, externalBytes: 1048576 });
  });

  it('gives nothing when a figure is missing or not a number', () => {
    expect(parseHeapMetrics('nodejs_heap_size_total_bytes 1\nnodejs_heap_size_used_bytes 1')).toBeUndefined();
    expect(parseHeapMetrics('nodejs_heap_size_total_bytes 1\nnodejs_heap_size_used_bytes x\nnodejs_external_memory_bytes 1')).toBeUndefined();
  });
});

describe('serverEnv', () => {
  const backend = { storage: 'file:///tmp/x', env: {} } as unknown as RunningBackend;

  it('passes the database URL and tuning through, nothing else of the caller', () => {
    const saved = { ...process.env };
    try {
      process.env['CONIFER_DATABASE_URL'] = 'postgresql://u:p@127.0.0.1:5432/soak';
      process.env['CONIFER_MEMTABLE_MAX_BYTES'] = '1000';
      process.env['CONIFER_API_KEY'] = 'caller-key';
      process.env['AWS_SECRET_ACCESS_KEY'] = 'secret';
      const env = serverEnv({ backend, dataDir: '/tmp/d', port: 1234, apiKey: 'soak-key' });
      expect(env['CONIFER_DATABASE_URL']).toBe('postgresql://u:p@127.0.0.1:5432/soak');
      expect(env['CONIFER_MEMTABLE_MAX_BYTES']).toBe('1000');
      expect(env['CONIFER_API_KEY']).toBe('soak-key');
      expect(env['AWS_SECRET_ACCESS_KEY']).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});
