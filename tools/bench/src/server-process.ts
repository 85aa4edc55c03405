import { readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '@conifer/emulators';

export type { ServerProcess };

/** The server as `npm start` runs it (@conifer/emulators' startServerProcess), with the bench's admin key. */
export function startServer(options: { dataDir: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ServerProcess> {
  return startServerProcess({ ...options, apiKey: 'bench-admin-key-0123456789abcdef' });
}

/** Resident set size of a process in bytes (Linux /proc), or undefined elsewhere. */
export function processRss(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
