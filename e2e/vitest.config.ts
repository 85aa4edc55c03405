import { defineConfig } from 'vitest/config';

// Full-stack tests start real server processes: run files one at a time so they do not compete
// for the machine's two cores, and give them time.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], fileParallelism: false, testTimeout: 180_000, hookTimeout: 180_000 },
});
