import { describe, expect, it } from 'vitest';
import { LIMITS } from '@conifer/core';
import { recordsPerUpsert, vectorServiceCodecs } from './grpc.ts';

describe('gRPC ingest batches', () => {
  it('stay within the request size limit at every dimension the benchmarks use, 1000 records where they fit', () => {
    const upsert = vectorServiceCodecs()['Upsert']!;
    for (const dimension of [64, 128, 768, 784]) {
      const count = recordsPerUpsert(dimension);
      const vectors = Array.from({ length: count }, (_, i) => ({
        id: String(999_000 + i),
        values: Array.from({ length: dimension }, (_, d) => (i * 31 + d) / 7),
        metadata: { fields: { bucket: { numberValue: i % 100 } } },
      }));
      const bytes = upsert.requestSerialize({ vectors }).length;
      expect(bytes, `dimension ${dimension}`).toBeLessThanOrEqual(LIMITS.maxRequestBytes);
      if (dimension <= 128) expect(count).toBe(1000);
    }
    expect(recordsPerUpsert(784)).toBe(655);
  });
});
