import { resolveEngineConfig } from '@conifer/engine';
import { lowerProcessPriority, type ProcessPriority } from '@conifer/index-builder';
import { buildServer, type ConiferServer } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

/**
 * Entry point: `node apps/server/src/main.ts`. Reads the configuration from the environment,
 * starts the server, and stops it gracefully on SIGTERM/SIGINT (a second signal exits at once).
 */
async function main(): Promise<void> {
  let server: ConiferServer;
  let lowered: (ProcessPriority & { niceness: number }) | undefined;
  try {
    const config = loadConfig();
    // An indexer-only node does nothing but background work: the whole process yields the CPU to
    // writers and query nodes on the same machine (before the build, so every thread it starts
    // inherits the priority).
    if (config.roles.length === 1 && config.roles[0] === 'indexer') {
      const niceness = resolveEngineConfig(config.engine).compactor.niceness;
      lowered = { niceness, ...lowerProcessPriority(niceness) };
    }
    server = await buildServer(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`conifer: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (lowered) server.app.log.info(lowered, 'indexer node: the whole process runs at the compaction niceness');
  const url = await server.start();
  process.stdout.write(`Conifer listening on ${url}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`conifer: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: draining requests, flushing the engine');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`conifer: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
