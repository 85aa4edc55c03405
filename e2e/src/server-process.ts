import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startServerProcess, type ServerProcess } from '@conifer/emulators';

export { freePort, REPO_ROOT, type ServerProcess };

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conifer-e2e-'));
}

/** The server as `npm start` runs it (@conifer/emulators' startServerProcess), with the e2e admin key. */
export async function startServer(options: { dataDir: string; apiKey?: string; env?: Record<string, string> }): Promise<ServerProcess> {
  return startServerProcess({ dataDir: options.dataDir, apiKey: options.apiKey ?? 'e2e-admin-key-0123456789', env: options.env, timeoutMs: 60_000 });
}

/**
 * `count` consecutive ports of 127.0.0.1 free now, for a server's `CONIFER_INDEX_PORTS`: a random
 * start between 20000 and 32000, below Linux's ephemeral range, so other tests' free ports and
 * client connections do not land in it.
 */
export async function freePortRange(count: number): Promise<{ first: number; last: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return { first, last: first + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}
