import { copyFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * `npm pack` / `npm publish` of a workspace package that ships built JavaScript (`@conifer/sdk`,
 * `@conifer/cli`). In the workspace their `exports` point at TypeScript sources, so the console,
 * the server's tests and the tools use the code as it is; the published package must point at
 * `dist/`. `prepack` (after the build) swaps in the published manifest, `postpack` puts the
 * workspace one back:
 *
 *   node tools/pack/publish-manifest.ts prepack   # in the package directory
 *   node tools/pack/publish-manifest.ts postpack
 *
 * The published manifest is the workspace one with `publish` (exports, main, types, files, bin)
 * merged in, without `private`, scripts and devDependencies, and without dependencies on private
 * workspace packages, which the build compiles in.
 */

const BACKUP = '.package.workspace.json';

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  publish?: Record<string, unknown>;
  [key: string]: unknown;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function readManifest(path: string): Promise<Manifest> {
  return JSON.parse(await readFile(path, 'utf8')) as Manifest;
}

/** Is this dependency a private package of the workspace (bundled by the build, not installable)? */
async function isPrivateWorkspacePackage(root: string, name: string): Promise<boolean> {
  const path = join(root, 'node_modules', name, 'package.json');
  if (!(await exists(path))) return false;
  return (await readManifest(path)).private === true;
}

export async function publishedManifest(workspace: Manifest, root: string): Promise<Manifest> {
  const { publish, scripts: _scripts, devDependencies: _dev, private: _private, ...rest } = workspace;
  if (!publish) throw new Error(`${workspace.name}: no "publish" section in package.json`);
  const dependencies: Record<string, string> = {};
  for (const [name, range] of Object.entries(workspace.dependencies ?? {})) {
    if (!(await isPrivateWorkspacePackage(root, name))) dependencies[name] = range;
  }
  return { ...rest, ...publish, dependencies };
}

async function prepack(dir: string, root: string): Promise<void> {
  const manifestPath = join(dir, 'package.json');
  const backupPath = join(dir, BACKUP);
  // A pack that died between the two steps left the published manifest in place: restore first.
  if (await exists(backupPath)) await rename(backupPath, manifestPath);
  const workspace = await readManifest(manifestPath);
  await copyFile(manifestPath, backupPath);
  await writeFile(manifestPath, `${JSON.stringify(await publishedManifest(workspace, root), null, 2)}\n`);
}

async function postpack(dir: string): Promise<void> {
  const backupPath = join(dir, BACKUP);
  if (await exists(backupPath)) await rename(backupPath, join(dir, 'package.json'));
}

const [step] = process.argv.slice(2);
const dir = process.cwd();
const root = resolve(import.meta.dirname, '..', '..');
if (step === 'prepack') await prepack(dir, root);
else if (step === 'postpack') await postpack(dir);
else {
  console.error('usage: node tools/pack/publish-manifest.ts prepack|postpack (in the package directory)');
  process.exit(2);
}
