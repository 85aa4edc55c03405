import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AZURITE_OLDEST, azuriteMain, ensureAzurite, ensureGoTool, ensureMoto, GO_TOOLS, goAvailable, REPO_ROOT } from './install.ts';
import { freePort, httpReady, startService, type RunningService } from './process.ts';
import type { AzureEmulator, GcsEmulator, S3Emulator, StartOptions } from './types.ts';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  azuriteConnectionString,
  createAzureContainer,
  createGcsBucket,
  createS3Bucket,
  GCS_PROJECT,
  s3ClientEnv,
  S3_SECRET,
  S3_USER,
} from './emulator-accounts.ts';

interface LocalOptions extends Required<Pick<StartOptions, 'bucket' | 'log'>> {
  detached: boolean;
  /** Scratch directory of this run (logs, MinIO data). */
  dir: string;
}

/** Starts a service on a fresh port; a port taken between probing and binding gets one more try. */
async function onFreePort(start: (port: number) => Promise<RunningService>): Promise<{ port: number; service: RunningService }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, service: await start(port) };
    } catch (err) {
      if (attempt >= 3 || !/address already in use|EADDRINUSE|bind/i.test(String(err))) throw err;
    }
  }
}

export async function startLocalS3(which: 'auto' | 'minio' | 'moto', options: LocalOptions): Promise<S3Emulator> {
  const useMinio = which === 'minio' || (which === 'auto' && (await goAvailable()));
  return useMinio ? startMinio(options) : startMoto(options);
}

async function startMinio(options: LocalOptions): Promise<S3Emulator> {
  const binary = await ensureGoTool('minio', options.log);
  const data = mkdtempSync(join(options.dir, 'minio-'));
  const { port, service } = await onFreePort(async (port) => {
    const consolePort = await freePort();
    return startService({
      name: 'minio',
      command: binary,
      args: ['server', data, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
      env: { MINIO_ROOT_USER: S3_USER, MINIO_ROOT_PASSWORD: S3_SECRET, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
      logFile: join(options.dir, 'minio.log'),
      ready: () => httpReady(`http://127.0.0.1:${port}/minio/health/ready`),
      detached: options.detached,
    });
  });
  return finishS3('minio', GO_TOOLS.minio.split('@')[1]!, port, service, options, () => rmSync(data, { recursive: true, force: true }));
}

async function startMoto(options: LocalOptions): Promise<S3Emulator> {
  const { python, version } = await ensureMoto(options.log);
  const { port, service } = await onFreePort((port) =>
    startService({
      name: 'moto',
      command: python,
      args: [join(REPO_ROOT, 'tools', 'emulators', 'src', 'moto_serial.py'), '127.0.0.1', String(port)],
      logFile: join(options.dir, 'moto.log'),
      ready: () => httpReady(`http://127.0.0.1:${port}/moto-api/data.json`),
      detached: options.detached,
    }),
  );
  return finishS3('moto', version, port, service, options, () => undefined);
}

async function finishS3(
  implementation: string,
  version: string,
  port: number,
  service: RunningService,
  options: LocalOptions,
  cleanup: () => void,
): Promise<S3Emulator> {
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  try {
    await createS3Bucket(endpoint, options.bucket);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    kind: 's3',
    implementation,
    version,
    runtime: 'process',
    pids: [service.pid],
    endpoint,
    region,
    accessKeyId: S3_USER,
    secretAccessKey: S3_SECRET,
    bucket: options.bucket,
    env: s3ClientEnv(endpoint, region),
    storageUrl: (prefix = '') => `s3://${options.bucket}/${prefix}`,
    stop: async () => {
      await service.stop();
      cleanup();
    },
  };
}

export async function startLocalGcs(options: LocalOptions): Promise<GcsEmulator> {
  const binary = await ensureGoTool('fake-gcs-server', options.log);
  const { port, service } = await onFreePort((port) =>
    startService({
      name: 'fake-gcs-server',
      command: binary,
      args: [
        '-scheme',
        'http',
        '-host',
        '127.0.0.1',
        '-port',
        String(port),
        '-backend',
        'memory',
        '-public-host',
        `127.0.0.1:${port}`,
        '-external-url',
        `http://127.0.0.1:${port}`,
        '-log-level',
        'warn',
      ],
      logFile: join(options.dir, 'fake-gcs-server.log'),
      ready: () => httpReady(`http://127.0.0.1:${port}/storage/v1/b`),
      detached: options.detached,
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await createGcsBucket(endpoint, options.bucket);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    kind: 'gcs',
    implementation: 'fake-gcs-server',
    version: GO_TOOLS['fake-gcs-server'].split('@')[1]!,
    runtime: 'process',
    pids: [service.pid],
    endpoint,
    projectId: GCS_PROJECT,
    bucket: options.bucket,
    env: { STORAGE_EMULATOR_HOST: endpoint, GOOGLE_CLOUD_PROJECT: GCS_PROJECT },
    storageUrl: (prefix = '') => `gs://${options.bucket}/${prefix}`,
    stop: () => service.stop(),
  };
}

export async function startLocalAzure(options: LocalOptions, release = 'current', persistence: 'memory' | 'disk' = 'memory'): Promise<AzureEmulator> {
  const wanted = release === 'current' ? azuriteMain().version : release === 'oldest' ? AZURITE_OLDEST : release;
  const { script, version } = await ensureAzurite(wanted, options.log);
  // Releases before 3.28 have no in-memory mode (they keep their data in a scratch directory), and
  // before 3.34 no telemetry to switch off: an option a release does not know stops it.
  const storage =
    persistence === 'memory' && atLeast(version, 3, 28) ? ['--inMemoryPersistence'] : ['--location', mkdtempSync(join(options.dir, `azurite-${version}-`))];
  const telemetry = atLeast(version, 3, 34) ? ['--disableTelemetry'] : [];
  const { port, service } = await onFreePort((port) =>
    startService({
      name: 'azurite',
      command: process.execPath,
      args: [script, '--blobHost', '127.0.0.1', '--blobPort', String(port), ...storage, '--skipApiVersionCheck', ...telemetry, '--silent'],
      logFile: join(options.dir, `azurite-${version}.log`),
      // Azurite answers an unauthenticated request with 4xx: it is up. Only if the answer is
      // Azurite's own: emulators started at once can be handed the same free port, and another's
      // answer there would pass for Azurite's while Azurite exits on EADDRINUSE (then retried).
      ready: () => httpReady(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}?comp=list`, (res) => res.headers.get('server')?.startsWith('Azurite-Blob/') === true),
      detached: options.detached,
    }),
  );
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString = azuriteConnectionString(endpoint);
  try {
    await createAzureContainer(connectionString, options.bucket);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return azureEmulator('azurite', version, 'process', [service.pid], endpoint, connectionString, options.bucket, () => service.stop());
}

export function azureEmulator(
  implementation: string,
  version: string,
  runtime: 'process' | 'docker',
  pids: number[],
  endpoint: string,
  connectionString: string,
  container: string,
  stop: () => Promise<void>,
): AzureEmulator {
  return {
    kind: 'azure',
    implementation,
    version,
    runtime,
    pids,
    endpoint,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    connectionString,
    container,
    env: { AZURE_STORAGE_CONNECTION_STRING: connectionString },
    storageUrl: (prefix = '') => `az://${container}/${prefix}`,
    stop,
  };
}

/** Whether `version` (x.y.z) is `major.minor` or later. */
function atLeast(version: string, major: number, minor: number): boolean {
  const [x = 0, y = 0] = version.split('.').map(Number);
  return x > major || (x === major && y >= minor);
}

/** A scratch directory for one set of emulators (logs, MinIO data). */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'conifer-emulators-'));
}
