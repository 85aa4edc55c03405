import { defineConfig } from 'vitest/config';

// Each test file starts real servers (PGlite takes a second or more) or spawns `node src/main.ts`.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
