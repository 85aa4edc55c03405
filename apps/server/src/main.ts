import { resolveEngineConfig } from '@conifer/engine';
import { buildServer, type ConiferServer } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.ts';
import { tuneProcessForRoles, type ProcessTuning } from './process-tuning.ts';

/**
 * Entry point: `node apps/server/src/main.ts`. Reads the configuration from the environment,
 * starts the server, and stops it gracefully on SIGTERM/SIGINT (a second signal exits at once).
 */
async function main(): Promise<void> {
  let server: ConiferServer;
  let tuning: ProcessTuning;
  try {
    const config = loadConfig();
    // One server per data directory: a second one would recover the embedded database under the first.
    // Released as the process exits, whichever way it stops (SIGKILL leaves it for the next start to take over).
    process.on('exit', await lockDataDir(config.dataDir));
    // Nodes with one job tune the whole process before the build, so every thread it starts
    // inherits the setting (an indexer yields the CPU; a gateway or a writer collects garbage in step).
    tuning = tuneProcessForRoles(config.roles, resolveEngineConfig(config.engine).compactor.niceness);
    server = await buildServer(config);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirInUseError) {
      process.stderr.write(`conifer: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (tuning.kind === 'indexer')
    server.app.log.info({ niceness: tuning.niceness, ...tuning.priority }, 'indexer node: the whole process runs at the compaction niceness');
  if (tuning.kind === 'gateway' || tuning.kind === 'writer')
    server.app.log.info({ v8Flags: tuning.v8Flags }, `${tuning.kind} node: memory outside the heap counts toward its collection limit`);
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
