import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedPgliteDataDir } from '@conifer/control/testing';
import { freePort, freePortRange, REPO_ROOT, startServerProcess, type ServerProcess } from '@conifer/emulators';

export { freePort, freePortRange, REPO_ROOT, type ServerProcess };

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conifer-e2e-'));
}

/**
 * The server as `npm start` runs it (@conifer/emulators' startServerProcess), with the e2e admin
 * key. A data directory without a control database gets a copy of @conifer/control's migrated
 * test template, which is what initdb and the migrations of a first start leave there, without
 * their seconds of CPU (control's database.test.ts tests that first start).
 */
export async function startServer(options: { dataDir: string; apiKey?: string; env?: Record<string, string> }): Promise<ServerProcess> {
  if (options.env?.['CONIFER_DATABASE_URL'] === undefined) await seedPgliteDataDir(join(options.dataDir, 'control'));
  return startServerProcess({ dataDir: options.dataDir, apiKey: options.apiKey ?? 'e2e-admin-key-0123456789', env: options.env, timeoutMs: 60_000 });
}
