import { defineConfig } from 'vitest/config';

// PGlite (the control plane's embedded Postgres) takes a second or more to start.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
