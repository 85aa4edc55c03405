import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { azureEmulator } from './local.ts';
import { createAzureContainer, createGcsBucket, createS3Bucket, GCS_PROJECT, s3ClientEnv, S3_SECRET, S3_USER } from './emulator-accounts.ts';
import type { AzureEmulator, GcsEmulator, S3Emulator } from './types.ts';

/**
 * The same emulators as containers, through testcontainers, for machines with a Docker engine:
 * the images `npm run images` builds from the very binaries and versions the local-process runtime
 * runs (tools/docker/images), since no registry can be reached here. Override with
 * CONIFER_MINIO_IMAGE, CONIFER_FAKE_GCS_IMAGE, CONIFER_AZURITE_IMAGE (e.g. the official
 * minio/minio, fsouza/fake-gcs-server and mcr.microsoft.com/azure-storage/azurite where they can be
 * pulled). `auto` falls back to local processes when a container fails to start; `npm test` runs
 * the cloud suites on processes (CONIFER_EMULATORS=process), where they also cover several Azurite
 * versions.
 */
export const IMAGES = {
  minio: process.env.CONIFER_MINIO_IMAGE ?? 'conifer-minio:local',
  fakeGcs: process.env.CONIFER_FAKE_GCS_IMAGE ?? 'conifer-fake-gcs:local',
  azurite: process.env.CONIFER_AZURITE_IMAGE ?? 'conifer-azurite:local',
};

const run = promisify(execFile);

/** True when a Docker engine answers `docker info` within 5 s. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export async function startDockerS3(bucket: string): Promise<S3Emulator> {
  const { MinioContainer } = await import('@testcontainers/minio');
  const container = await new MinioContainer(IMAGES.minio).withUsername(S3_USER).withPassword(S3_SECRET).start();
  const endpoint = container.getConnectionUrl();
  const region = 'us-east-1';
  await createS3Bucket(endpoint, bucket);
  return {
    kind: 's3',
    implementation: 'minio',
    version: IMAGES.minio,
    runtime: 'docker',
    pids: [],
    endpoint,
    region,
    accessKeyId: S3_USER,
    secretAccessKey: S3_SECRET,
    bucket,
    env: s3ClientEnv(endpoint, region),
    storageUrl: (prefix = '') => `s3://${bucket}/${prefix}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startDockerGcs(bucket: string): Promise<GcsEmulator> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(IMAGES.fakeGcs)
    .withCommand(['-scheme', 'http', '-backend', 'memory', '-port', '4443', '-log-level', 'warn'])
    .withExposedPorts(4443)
    .withWaitStrategy(Wait.forHttp('/storage/v1/b', 4443))
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(4443)}`;
  const project = GCS_PROJECT;
  // Resumable uploads answer with a Location on the external URL, which only now is known.
  await fetch(`${endpoint}/_internal/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ externalUrl: endpoint, publicHost: endpoint.replace(/^http:\/\//, '') }),
  });
  await createGcsBucket(endpoint, bucket);
  return {
    kind: 'gcs',
    implementation: 'fake-gcs-server',
    version: IMAGES.fakeGcs,
    runtime: 'docker',
    pids: [],
    endpoint,
    projectId: project,
    bucket,
    env: { STORAGE_EMULATOR_HOST: endpoint, GOOGLE_CLOUD_PROJECT: project },
    storageUrl: (prefix = '') => `gs://${bucket}/${prefix}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startDockerAzure(bucket: string): Promise<AzureEmulator> {
  const { AzuriteContainer } = await import('@testcontainers/azurite');
  const container = await new AzuriteContainer(IMAGES.azurite).withInMemoryPersistence().withSkipApiVersionCheck().start();
  const connectionString = container.getConnectionString();
  await createAzureContainer(connectionString, bucket);
  return azureEmulator('azurite', IMAGES.azurite, 'docker', [], container.getBlobEndpoint(), connectionString, bucket, async () => {
    await container.stop();
  });
}
