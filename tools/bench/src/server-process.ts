import { readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '@conifer/emulators';

export type { ServerProcess };

/**
 * The library the benchmark's servers preload as their allocator (`BENCH_SERVER_PRELOAD`, e.g.
 * jemalloc's, which `npm start` runs its server on), or undefined for glibc's malloc (the default:
 * tools/setup/bench.sh says why).
 */
export function serverPreload(): string | undefined {
  return process.env['BENCH_SERVER_PRELOAD'] || undefined;
}

/** The server as `npm start` runs it (@conifer/emulators' startServerProcess), with the bench's admin key. */
export function startServer(options: { dataDir: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ServerProcess> {
  const preload = serverPreload();
  return startServerProcess({ ...options, env: { ...(preload ? { LD_PRELOAD: preload } : {}), ...options.env }, apiKey: 'bench-admin-key-0123456789abcdef' });
}

/**
 * The series of a server's `/metrics` whose names match `names` (a regex of metric names), each by
 * its full name with labels, e.g. `conifer_memory_used_bytes{kind="slabs",role="writer"}`.
 */
export async function metricSeries(url: string, names: RegExp): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = new RegExp(`^(${names.source})(\\{[^}]*\\})? (\\S+)$`);
  const out: Record<string, number> = {};
  for (const row of text.split('\n')) {
    const match = line.exec(row);
    if (match) out[`${match[1]}${match[2] ?? ''}`] = Number(match[3]);
  }
  return out;
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
