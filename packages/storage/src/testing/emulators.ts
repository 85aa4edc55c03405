/**
 * The cloud emulators of tools/emulators, for tests outside this package (e2e):
 * `import { startEmulators } from '@conifer/storage/testing/emulators'`.
 *
 * The specifier ends in `.js` on purpose: tools/emulators is another TypeScript project (referenced
 * from this package's tsconfig), and TypeScript refuses to rewrite a `.ts` import across projects
 * (TS2878). Vitest resolves `.js` to the `.ts` source.
 */
export * from '../../../../tools/emulators/src/index.js';
