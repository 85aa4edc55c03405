import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sleep } from './process.ts';

const run = promisify(execFile);

/** The repository root (this file is tools/emulators/src/install.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/**
 * Where emulator binaries are installed: a per-user cache shared by every clone of the repository
 * (`$CONIFER_TOOLS_BIN`, else `$XDG_CACHE_HOME/conifer/bin`, else `~/.cache/conifer/bin`), so a
 * fresh clone — CI's — does not rebuild MinIO (minutes) that an earlier clone already built.
 * Versions are pinned below and checked before use.
 */
export const TOOLS_BIN = process.env['CONIFER_TOOLS_BIN'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'conifer', 'bin');

/**
 * Pinned emulator versions, installed through the Go module proxy. Pinned so that every machine
 * runs the same emulator; bump deliberately and rerun the cloud contract suite.
 * MinIO publishes no tagged Go module versions any more: this is the pseudo-version `@latest`
 * resolved to when it was chosen.
 */
export const GO_TOOLS = {
  minio: 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c',
  'fake-gcs-server': 'github.com/fsouza/fake-gcs-server@v1.56.1',
} as const;
export type GoTool = keyof typeof GO_TOOLS;

/** A stale install lock (a crashed installer) is taken over after this long. */
const LOCK_STALE_MS = 30 * 60 * 1000;

async function commandExists(command: string): Promise<boolean> {
  try {
    await run('/bin/sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of a Go-built emulator, installing it first when missing or of another version
 * (`go install <module>@<version>` into TOOLS_BIN). Concurrent callers (parallel test
 * projects) wait for one install through a lock directory.
 */
export async function ensureGoTool(tool: GoTool, log: (line: string) => void = () => undefined): Promise<string> {
  const binary = join(TOOLS_BIN, tool);
  const stamp = join(TOOLS_BIN, `.${tool}.version`);
  const wanted = GO_TOOLS[tool];
  const current = () => existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted;
  if (current()) return binary;
  mkdirSync(TOOLS_BIN, { recursive: true });
  const lock = join(TOOLS_BIN, `.${tool}.lock`);
  await acquireLock(lock);
  try {
    if (current()) return binary;
    if (!(await commandExists('go'))) {
      throw new Error(`${tool} is not installed and Go is not available to install it (go install ${wanted})`);
    }
    log(`conifer-emulators: installing ${wanted} into ${TOOLS_BIN} (one time; takes a few minutes for minio)`);
    // Into a private directory, then renamed into place: a reader never sees half a binary.
    const gobin = await mkdtemp(join(TOOLS_BIN, `.${tool}-`));
    try {
      await run('go', ['install', wanted], {
        env: { ...process.env, GOBIN: gobin, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 20 * 60 * 1000,
      });
      renameSync(join(gobin, tool), binary);
      writeFileSync(stamp, `${wanted}\n`);
    } finally {
      rmSync(gobin, { recursive: true, force: true });
    }
    return binary;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Makes sure `moto_server` (Python) exists, installing `moto[server]` with pip when it does not. */
export async function ensureMoto(log: (line: string) => void = () => undefined): Promise<{ python: string; version: string }> {
  const python = (await commandExists('python3')) ? 'python3' : 'python';
  const version = async () => (await run(python, ['-c', 'import moto, werkzeug; print(moto.__version__)'])).stdout.trim();
  try {
    return { python, version: await version() };
  } catch {
    // not installed (or without the server extra)
  }
  const lock = join(TOOLS_BIN, '.moto.lock');
  mkdirSync(TOOLS_BIN, { recursive: true });
  await acquireLock(lock);
  try {
    try {
      return { python, version: await version() };
    } catch {
      log('conifer-emulators: installing moto[server] with pip');
      await run(python, ['-m', 'pip', 'install', '--quiet', 'moto[server]'], { maxBuffer: 64 * 1024 * 1024, timeout: 10 * 60 * 1000 });
      return { python, version: await version() };
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The Azurite blob server script and its version (an npm devDependency of the repository). */
export function azuriteMain(): { script: string; version: string } {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  let pkgPath: string;
  try {
    pkgPath = require.resolve('azurite/package.json');
  } catch (err) {
    throw new Error('azurite is not installed: run `npm ci` at the repository root (it is a root devDependency)', { cause: err });
  }
  return azuriteScript(dirname(pkgPath));
}

/**
 * The oldest Azurite release the storage contract suite passes against with the @azure/storage-blob
 * version in the lockfile (`--skipApiVersionCheck`: the SDK speaks a newer service version than any
 * Azurite knows). Older service versions differ in ways that matter: before 3.37 Azurite ignores
 * List Blobs' `startFrom`, and before 3.28 it has no in-memory mode. The cloud e2e and contract
 * suites run against it as well as the current one; see docs/storage.md for how it was chosen.
 */
export const AZURITE_OLDEST = '3.14.3';

/**
 * The Azurite blob server script of `version`: the root devDependency when it is that version,
 * otherwise `npm install azurite@<version>` into `TOOLS_BIN/azurite-<version>` (once per machine,
 * under a lock, shared by every clone like the Go-built emulators).
 */
export async function ensureAzurite(version: string, log: (line: string) => void = () => undefined): Promise<{ script: string; version: string }> {
  const root = azuriteMain();
  if (version === root.version) return root;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not an Azurite release: ${JSON.stringify(version)}`);
  const prefix = join(TOOLS_BIN, `azurite-${version}`);
  const packageDir = join(prefix, 'node_modules', 'azurite');
  const installed = () => existsSync(join(packageDir, 'package.json')) && azuriteScript(packageDir).version === version;
  if (installed()) return azuriteScript(packageDir);
  mkdirSync(TOOLS_BIN, { recursive: true });
  const lock = join(TOOLS_BIN, `.azurite-${version}.lock`);
  await acquireLock(lock);
  try {
    if (!installed()) {
      log(`conifer-emulators: installing azurite@${version} into ${prefix} (one time)`);
      rmSync(prefix, { recursive: true, force: true });
      await run('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `azurite@${version}`], {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 10 * 60 * 1000,
      });
    }
    return azuriteScript(packageDir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function azuriteScript(packageDir: string): { script: string; version: string } {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { script: join(packageDir, 'dist', 'src', 'blob', 'main.js'), version: pkg.version };
}

/** Whether Go is on PATH (MinIO and fake-gcs-server can be built). */
export async function goAvailable(): Promise<boolean> {
  return commandExists('go');
}

/**
 * Takes the lock directory `lock` (mkdir is atomic), waiting while another installer holds it; a
 * lock older than `LOCK_STALE_MS` was left by a crashed installer and is taken over. Remove the
 * directory to release it.
 */
export async function acquireLock(lock: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // gone already
    }
    await sleep(1_000);
  }
}
