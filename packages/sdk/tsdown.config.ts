import { defineConfig } from 'tsdown';

// The published package: ESM and CommonJS with bundled declarations. `@conifer/core`'s error
// classes are compiled in (the package is not published); tRPC stays a dependency.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist/npm',
  tsconfig: 'tsconfig.build.json',
  deps: { alwaysBundle: [/^@conifer\//], neverBundle: [/^@trpc\//] },
  dts: { resolve: [/^@conifer\//], tsc: { eager: true } },
  clean: true,
});
