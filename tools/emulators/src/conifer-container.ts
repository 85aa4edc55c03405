import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import {
  AZURITE_ACCOUNT,
  azuriteConnectionString,
  createAzureContainer,
  createGcsBucket,
  createS3Bucket,
  GCS_PROJECT,
  s3ClientEnv,
  S3_SECRET,
  S3_USER,
} from './emulator-accounts.ts';

/**
 * Conifer's image as a container, through testcontainers, for the container e2e tests. The image
 * is built by `npm run images` (tools/docker/images.sh) and tagged `conifer:local` unless
 * CONIFER_IMAGE names another. The engine is the one at DOCKER_HOST; nothing is pulled, so the
 * testcontainers reaper (an image of its own) stays off and every test removes what it started.
 */
export const CONIFER_IMAGE = process.env['CONIFER_IMAGE'] ?? 'conifer:local';

/** Port the image listens on. */
export const CONIFER_PORT = 5080;

const run = promisify(execFile);

// Read by testcontainers when it first talks to the engine: no reaper (it would be pulled), and
// published ports reached on IPv4 loopback, where the test engine publishes them.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';

/** Why container tests cannot run here (no engine answering, or one of `images` missing), or undefined when they can. */
export async function containerTestsBlocked(images: readonly string[] = [CONIFER_IMAGE]): Promise<string | undefined> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
  } catch (error) {
    return `no Docker engine answers at ${process.env['DOCKER_HOST'] ?? 'the default socket'} (${(error as Error).message.split('\n')[0]})`;
  }
  for (const image of images) {
    try {
      await run('docker', ['image', 'inspect', image], { timeout: 10_000 });
    } catch {
      return `the engine has no image ${image}: build it with npm run images`;
    }
  }
  return undefined;
}

export interface ConiferContainer {
  container: StartedTestContainer;
  /** Base URL on the published loopback port (changes when the container restarts). */
  url(): string;
  apiKey: string;
  /** SIGKILL, as `docker kill`: no shutdown hooks run. */
  kill(): Promise<void>;
  /** Starts it again after a stop or kill (same container, same /data volume) and waits for /healthz. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the image with `env` (only environment configures it) and waits until /healthz answers. */
export async function startConiferContainer(options: {
  apiKey: string;
  env?: Record<string, string>;
  image?: string;
  network?: StartedNetwork;
}): Promise<ConiferContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  let image = new GenericContainer(options.image ?? CONIFER_IMAGE)
    .withEnvironment({ CONIFER_API_KEY: options.apiKey, ...options.env })
    .withExposedPorts(CONIFER_PORT)
    .withWaitStrategy(Wait.forHttp('/healthz', CONIFER_PORT).forStatusCode(200))
    .withStartupTimeout(120_000);
  if (options.network) image = image.withNetwork(options.network);
  const container = await image.start();
  return {
    container,
    url: () => `http://${container.getHost()}:${container.getMappedPort(CONIFER_PORT)}`,
    apiKey: options.apiKey,
    kill: async () => {
      await run('docker', ['kill', '--signal', 'KILL', container.getId()], { timeout: 30_000 });
    },
    restart: async () => {
      await container.restart();
    },
    stop: async () => {
      await container.stop({ remove: true, removeVolumes: true });
    },
  };
}

/** The object stores a stack can use: an emulator container each, reached by Conifer on the stack's network. */
export type StackStore = 's3' | 'gcs' | 'azure';

/** The emulator images `npm run images` builds (CONIFER_*_LOCAL_IMAGE to use others). */
export const STACK_IMAGES = {
  postgres: process.env['CONIFER_POSTGRES_LOCAL_IMAGE'] ?? 'conifer-postgres:local',
  s3: process.env['CONIFER_MINIO_LOCAL_IMAGE'] ?? 'conifer-minio:local',
  gcs: process.env['CONIFER_FAKE_GCS_LOCAL_IMAGE'] ?? 'conifer-fake-gcs:local',
  azure: process.env['CONIFER_AZURITE_LOCAL_IMAGE'] ?? 'conifer-azurite:local',
};

const BUCKET = 'conifer';

/**
 * Conifer as an operator deploys it on a cloud: the image with its control plane in PostgreSQL and
 * its data in a bucket, each its own container on a network of their own, Conifer configured only
 * by `CONIFER_DATABASE_URL`, `CONIFER_STORAGE` and the cloud's standard variables. The bucket is
 * made from the host, through the emulator's published port, before Conifer starts.
 */
export async function startConiferStack(store: StackStore, options: { apiKey: string; env?: Record<string, string> }): Promise<ConiferContainer> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const started: StartedTestContainer[] = [];
  const stopAll = async () => {
    for (const container of started.reverse()) await container.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
    await network.stop().catch(() => undefined);
  };
  try {
    started.push(
      await new GenericContainer(STACK_IMAGES.postgres)
        .withNetwork(network)
        .withNetworkAliases('postgres')
        .withEnvironment({ POSTGRES_PASSWORD: 'conifer', POSTGRES_DB: 'conifer' })
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000)
        .start(),
    );
    const storeEnv = await startStore(store, network, started);
    const conifer = await startConiferContainer({
      apiKey: options.apiKey,
      network,
      env: { CONIFER_DATABASE_URL: 'postgres://postgres:conifer@postgres:5432/conifer', ...storeEnv, ...options.env },
    });
    return {
      ...conifer,
      stop: async () => {
        await conifer.stop();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function startStore(kind: StackStore, net: StartedNetwork, into: StartedTestContainer[]): Promise<Record<string, string>> {
    switch (kind) {
      case 's3': {
        const minio = await new GenericContainer(STACK_IMAGES.s3)
          .withNetwork(net)
          .withNetworkAliases('minio')
          .withEnvironment({ MINIO_ROOT_USER: S3_USER, MINIO_ROOT_PASSWORD: S3_SECRET })
          .withExposedPorts(9000)
          .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
          .start();
        into.push(minio);
        await createS3Bucket(`http://${minio.getHost()}:${minio.getMappedPort(9000)}`, BUCKET);
        return { CONIFER_STORAGE: `s3://${BUCKET}/data/`, ...s3ClientEnv('http://minio:9000', 'us-east-1') };
      }
      case 'gcs': {
        // Resumable uploads answer with a Location on the external URL: the one Conifer uses.
        const gcs = await new GenericContainer(STACK_IMAGES.gcs)
          .withNetwork(net)
          .withNetworkAliases('gcs')
          .withCommand([
            '-scheme',
            'http',
            '-backend',
            'memory',
            '-port',
            '4443',
            '-external-url',
            'http://gcs:4443',
            '-public-host',
            'gcs:4443',
            '-log-level',
            'warn',
          ])
          .withExposedPorts(4443)
          .withWaitStrategy(Wait.forHttp('/storage/v1/b', 4443))
          .start();
        into.push(gcs);
        await createGcsBucket(`http://${gcs.getHost()}:${gcs.getMappedPort(4443)}`, BUCKET);
        return { CONIFER_STORAGE: `gs://${BUCKET}/data/`, STORAGE_EMULATOR_HOST: 'http://gcs:4443', GOOGLE_CLOUD_PROJECT: GCS_PROJECT };
      }
      case 'azure': {
        const azurite = await new GenericContainer(STACK_IMAGES.azure)
          .withNetwork(net)
          .withNetworkAliases('azurite')
          .withExposedPorts(10000)
          .withWaitStrategy(Wait.forListeningPorts())
          .start();
        into.push(azurite);
        await createAzureContainer(azuriteConnectionString(`http://${azurite.getHost()}:${azurite.getMappedPort(10000)}/${AZURITE_ACCOUNT}`), BUCKET);
        return { CONIFER_STORAGE: `az://${BUCKET}/data/`, AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(`http://azurite:10000/${AZURITE_ACCOUNT}`) };
      }
    }
  }
}
