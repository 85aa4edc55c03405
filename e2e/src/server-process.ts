import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePortRange, REPO_ROOT, startServerProcess, type ServerProcess } from '@conifer/emulators';

export { freePort, freePortRange, REPO_ROOT, type ServerProcess };

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conifer-e2e-'));
}

/** The server as `npm start` runs it (@conifer/emulators' startServerProcess), with the e2e admin key. */
export async function startServer(options: { dataDir: string; apiKey?: string; env?: Record<string, string> }): Promise<ServerProcess> {
  return startServerProcess({ dataDir: options.dataDir, apiKey: options.apiKey ?? 'e2e-admin-key-0123456789', env: options.env, timeoutMs: 60_000 });
}
