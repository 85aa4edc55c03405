import { defineConfig } from 'vitest/config';

// Seeds run one after another in one process (failpoints are process-wide); give them time.
export default defineConfig({ test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, fileParallelism: false } });
