import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LIMITS } from '@conifer/core';
import { REPO_ROOT } from '@conifer/emulators';
import { recordsPerUpsert } from './grpc.ts';

describe('gRPC ingest batches', () => {
  it('stay within the request size limit at every dimension the benchmarks use, 1000 records where they fit', () => {
    const loaded = loadPackageDefinition(
      loadSync(join(REPO_ROOT, 'apps/server/src/grpc/db_data.proto'), { longs: Number, defaults: false, oneofs: true }),
    ) as unknown as {
      VectorService: { service: { Upsert: { requestSerialize(value: object): Buffer } } };
    };
    for (const dimension of [64, 128, 768, 784]) {
      const count = recordsPerUpsert(dimension);
      const vectors = Array.from({ length: count }, (_, i) => ({
        id: String(999_000 + i),
        values: Array.from({ length: dimension }, (_, d) => (i * 31 + d) / 7),
        metadata: { fields: { bucket: { numberValue: i % 100 } } },
      }));
      const bytes = loaded.VectorService.service.Upsert.requestSerialize({ vectors }).length;
      expect(bytes, `dimension ${dimension}`).toBeLessThanOrEqual(LIMITS.maxRequestBytes);
      if (dimension <= 128) expect(count).toBe(1000);
    }
    expect(recordsPerUpsert(784)).toBe(655);
  });
});
