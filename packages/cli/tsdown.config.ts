import { defineConfig } from 'tsdown';

// The published command: ESM for Node 20+, its dependencies (the SDK included) installed beside it.
export default defineConfig({
  entry: ['src/main.ts', 'src/index.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist/npm',
  tsconfig: 'tsconfig.build.json',
  deps: { neverBundle: [/^@conifer\/sdk/, 'commander', 'hyparquet', 'cli-progress'] },
  dts: true,
  clean: true,
});
