import { percentile } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { parseLatencyModel, S3_LATENCY, withLatency } from './latency-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import { objectStoreContract } from './testing/contract.ts';

// The contract holds through the wrapper (a near-zero latency keeps it quick).
objectStoreContract('withLatency(memory)', async () => ({
  store: withLatency(new MemoryObjectStore(), { firstByteMs: { p50: 0.05, p99: 0.2 }, bytesPerSecond: 1e12 }),
}));

describe('withLatency', () => {
  it('draws times to first byte with the median and 99th percentile asked for', () => {
    const store = withLatency(new MemoryObjectStore(), S3_LATENCY) as unknown as { firstByteMs(): number };
    const draws = Array.from({ length: 20_000 }, () => store.firstByteMs()).sort((a, b) => a - b);
    expect(percentile(draws, 50)).toBeGreaterThan(25 * 0.95);
    expect(percentile(draws, 50)).toBeLessThan(25 * 1.05);
    expect(percentile(draws, 99)).toBeGreaterThan(80 * 0.85);
    expect(percentile(draws, 99)).toBeLessThan(80 * 1.15);
  });

  it('moves bodies at the rate asked for, after the first byte', async () => {
    const inner = new MemoryObjectStore();
    await inner.put('big', new Uint8Array(2_000_000));
    const store = withLatency(inner, { firstByteMs: { p50: 5, p99: 5 }, bytesPerSecond: 20e6 });
    const started = performance.now();
    const body = await store.get('big');
    const elapsed = performance.now() - started;
    expect(body?.data.byteLength).toBe(2_000_000);
    expect(elapsed).toBeGreaterThanOrEqual(5 + 100 - 2); // 5 ms to the first byte, 2 MB at 20 MB/s
    const ranged = performance.now();
    expect((await store.getRange('big', 0, 200_000))?.byteLength).toBe(200_000);
    const rangeElapsed = performance.now() - ranged;
    expect(rangeElapsed).toBeGreaterThanOrEqual(5 + 10 - 2);
    expect(rangeElapsed).toBeLessThan(elapsed);
  });

  it('reads `s3` and `<p50>/<p99>/<MB/s>`, and refuses anything else', () => {
    expect(parseLatencyModel('s3')).toEqual(S3_LATENCY);
    expect(parseLatencyModel('10/40/250')).toEqual({ firstByteMs: { p50: 10, p99: 40 }, bytesPerSecond: 250e6 });
    for (const bad of ['', 's4', '10/40', '40/10/100', '10/40/0', 'a/b/c']) expect(parseLatencyModel(bad)).toBeUndefined();
  });
});
