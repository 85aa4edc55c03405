import { defineConfig } from 'vitest/config';

// Pure functions of src/lib only (form parsing, filter editor, chart geometry): fast, no browser.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
