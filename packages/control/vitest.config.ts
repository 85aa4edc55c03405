import { defineConfig } from 'vitest/config';

// PGlite takes one to a few seconds to start (WASM); PostgreSQL databases are created per suite.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
