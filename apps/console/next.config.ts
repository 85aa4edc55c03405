import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

/** Repository root: the workspace packages (@conifer/sdk, @conifer/core) live outside this app. */
const root = fileURLToPath(new URL('../../', import.meta.url));

const config: NextConfig = {
  // The workspace packages export TypeScript sources (with `.ts` import extensions): compile them.
  transpilePackages: ['@conifer/sdk', '@conifer/core'],
  turbopack: { root },
  outputFileTracingRoot: root,
  // `nx typecheck` (tsc --noEmit) checks types; the build need not do it again on every `npm start`.
  typescript: { ignoreBuildErrors: true },
  // The container image runs the console from a self-contained build (`.next/standalone`, only
  // the files it uses); `npm start` runs `next start` on the usual build.
  ...(process.env.CONIFER_CONSOLE_OUTPUT === 'standalone' ? { output: 'standalone' as const } : {}),
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
