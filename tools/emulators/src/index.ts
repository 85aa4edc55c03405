import { rmSync } from 'node:fs';
import { dockerAvailable, startDockerAzure, startDockerGcs, startDockerS3 } from './docker.ts';
import { scratchDir, startLocalAzure, startLocalGcs, startLocalS3 } from './local.ts';
import { DEFAULT_BUCKET, type AzureEmulator, type Emulator, type EmulatorKind, type GcsEmulator, type S3Emulator, type StartOptions } from './types.ts';

export type { AzureEmulator, Emulator, EmulatorKind, GcsEmulator, S3Emulator, StartOptions } from './types.ts';
export { dockerAvailable } from './docker.ts';
export {
  CONIFER_IMAGE,
  CONIFER_PORT,
  containerTestsBlocked,
  STACK_IMAGES,
  startConiferContainer,
  startConiferStack,
  type ConiferContainer,
  type StackStore,
} from './conifer-container.ts';
export { acquireLock, AZURITE_OLDEST, ensureAzurite, ensureGoTool, ensureMoto, GO_TOOLS, TOOLS_BIN } from './install.ts';
export { freePort, freePortRange } from './process.ts';
export { ensureVenv, pinnedVersion } from './python-venv.ts';
export { REPO_ROOT, startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process.ts';

export interface Emulators {
  s3?: S3Emulator;
  gcs?: GcsEmulator;
  azure?: AzureEmulator;
  /** Every emulator started, in the order asked for. */
  all: Emulator[];
  /** The settings of every emulator started, merged (they do not overlap). */
  env: Record<string, string>;
  /** Where logs (and MinIO's data) live; removed by stop() unless `keepLogs`. */
  dir: string | undefined;
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

/**
 * Starts the cloud emulators named by `kinds` on free loopback ports, each with a bucket (container)
 * named `options.bucket`, and returns their endpoints, credentials and settings.
 *
 * - S3: MinIO (`go install`ed into ~/.cache/conifer/bin on first use), or moto when Go is missing or
 *   `CONIFER_S3_EMULATOR=moto` (through a launcher that makes its conditional writes atomic).
 * - GCS: fake-gcs-server (`go install`ed into ~/.cache/conifer/bin on first use), in memory.
 * - Azure: Azurite (the root devDependency), in memory.
 *
 * With a Docker engine (`docker info` answers) they run as containers through testcontainers
 * instead, unless `CONIFER_EMULATORS=process`. Processes are stopped by `stop()`, and also when
 * this process dies (a watchdog on a pipe), so a crashed test run leaks nothing.
 *
 * @example
 * const emulators = await startEmulators(['s3', 'gcs', 'azure']);
 * const store = openObjectStore(emulators.s3!.storageUrl('my-test/'), { env: emulators.env });
 * await emulators.stop();
 */
export async function startEmulators(kinds: readonly EmulatorKind[] = ['s3', 'gcs', 'azure'], options: StartOptions = {}): Promise<Emulators> {
  const bucket = options.bucket ?? DEFAULT_BUCKET;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runtime = options.runtime ?? (process.env.CONIFER_EMULATORS as StartOptions['runtime'] | undefined) ?? 'auto';
  const s3 = options.s3 ?? (process.env.CONIFER_S3_EMULATOR as StartOptions['s3'] | undefined) ?? 'auto';
  const useDocker = runtime === 'docker' || (runtime === 'auto' && !options.detached && (await dockerAvailable()));

  let dir: string | undefined;
  const localDir = () => (dir ??= scratchDir());
  const startOne = async (kind: EmulatorKind): Promise<Emulator> => {
    if (useDocker) {
      try {
        if (kind === 's3') return await startDockerS3(bucket);
        if (kind === 'gcs') return await startDockerGcs(bucket);
        return await startDockerAzure(bucket);
      } catch (err) {
        if (runtime === 'docker') throw err;
        log(`conifer-emulators: ${kind} container did not start (${String(err)}); running it as a local process`);
      }
    }
    const local = { bucket, log, detached: options.detached ?? false, dir: localDir() };
    if (kind === 's3') return startLocalS3(s3, local);
    if (kind === 'gcs') return startLocalGcs(local);
    return startLocalAzure(local, options.azurite ?? process.env.CONIFER_AZURITE_VERSION ?? 'current', options.azuritePersistence);
  };

  const results = await Promise.allSettled(kinds.map(startOne));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((e) => e.stop().catch(() => undefined)));
    throw failed.reason;
  }
  const byKind = <K extends EmulatorKind>(kind: K) => started.find((e) => e.kind === kind) as Extract<Emulator, { kind: K }> | undefined;
  let stopped = false;
  return {
    ...(byKind('s3') ? { s3: byKind('s3')! } : {}),
    ...(byKind('gcs') ? { gcs: byKind('gcs')! } : {}),
    ...(byKind('azure') ? { azure: byKind('azure')! } : {}),
    all: started,
    env: Object.assign({}, ...started.map((e) => e.env)) as Record<string, string>,
    dir,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await Promise.all(started.map((e) => e.stop().catch(() => undefined)));
      if (dir && !stopOptions.keepLogs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
export { pineconeParquet, type PineconeParquetRows } from './pinecone-parquet.ts';
