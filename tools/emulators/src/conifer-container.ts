import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StartedTestContainer } from 'testcontainers';

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

/** Why container tests cannot run here (no engine answering, or no image), or undefined when they can. */
export async function containerTestsBlocked(image = CONIFER_IMAGE): Promise<string | undefined> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
  } catch (error) {
    return `no Docker engine answers at ${process.env['DOCKER_HOST'] ?? 'the default socket'} (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    await run('docker', ['image', 'inspect', image], { timeout: 10_000 });
  } catch {
    return `the engine has no image ${image}: build it with npm run images`;
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
export async function startConiferContainer(options: { apiKey: string; env?: Record<string, string>; image?: string }): Promise<ConiferContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(options.image ?? CONIFER_IMAGE)
    .withEnvironment({ CONIFER_API_KEY: options.apiKey, ...options.env })
    .withExposedPorts(CONIFER_PORT)
    .withWaitStrategy(Wait.forHttp('/healthz', CONIFER_PORT).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
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
