/**
 * Samples of the server process (resident memory, open file descriptors; Linux /proc; and its heap
 * as its /metrics reports it) every few seconds, and of what is stored (objects under the run's prefix, the data directory) less often:
 * listing a bucket costs more than reading /proc.
 */
import { readdir, readFile } from 'node:fs/promises';
import { directorySize, type RunningBackend } from './backends.ts';
import type { ServerController } from './server.ts';

export interface ResourceSample {
  /** Seconds since the run started. */
  t: number;
  /** Server generation the sample is of. */
  epoch: number;
  rssBytes: number;
  fds: number;
  /** Resident memory of the emulator's processes (with their children), when it runs as local processes. */
  emulatorRssBytes?: number;
  /** Where the server's memory is, from its /metrics (absent when the scrape failed). */
  heap?: HeapSample;
}

/** The server's own account of its memory (Node's default Prometheus metrics). */
export interface HeapSample {
  /** JS objects on the V8 heap. */
  heapUsedBytes: number;
  /** The V8 heap as reserved (used plus free pages). */
  heapTotalBytes: number;
  /** Memory of C++ objects bound to JS objects: Buffers, ArrayBuffers, the faiss addon's reports. */
  externalBytes: number;
}

const HEAP_METRICS = {
  nodejs_heap_size_used_bytes: 'heapUsedBytes',
  nodejs_heap_size_total_bytes: 'heapTotalBytes',
  nodejs_external_memory_bytes: 'externalBytes',
} as const;

/** Reads the heap figures out of a Prometheus text exposition; undefined if any is missing. */
export function parseHeapMetrics(text: string): HeapSample | undefined {
  const found: Partial<HeapSample> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    const key = HEAP_METRICS[name as keyof typeof HEAP_METRICS];
    if (key !== undefined && value !== undefined && Number.isFinite(Number(value))) found[key] = Number(value);
  }
  const { heapUsedBytes, heapTotalBytes, externalBytes } = found;
  if (heapUsedBytes === undefined || heapTotalBytes === undefined || externalBytes === undefined) return undefined;
  return { heapUsedBytes, heapTotalBytes, externalBytes };
}

async function scrapeHeap(url: string): Promise<HeapSample | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? parseHeapMetrics(await response.text()) : undefined;
  } catch {
    return undefined;
  }
}

export interface StorageSample {
  t: number;
  objects: number;
  objectBytes: number;
  /** The server's data directory (embedded database; for cloud backends also the slab cache). */
  dataDirBytes: number;
}

/** Resident set size of a process in bytes, or undefined when it is gone. */
export async function processRss(pid: number): Promise<number | undefined> {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** A process and all its descendants (Linux /proc/<pid>/task/<tid>/children). */
export async function processTree(pid: number): Promise<number[]> {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const task of await readdir(`/proc/${tree[i]}/task`)) {
        const children = await readFile(`/proc/${tree[i]}/task/${task}/children`, 'utf8').catch(() => '');
        tree.push(
          ...children
            .split(' ')
            .filter((c) => c.trim() !== '')
            .map(Number),
        );
      }
    } catch {
      // exited meanwhile
    }
  }
  return tree;
}

export async function openFds(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined;
  }
}

export class Sampler {
  readonly resources: ResourceSample[] = [];
  readonly storage: StorageSample[] = [];
  readonly #server: ServerController;
  readonly #backend: RunningBackend;
  readonly #dataDir: string;
  readonly #clock: () => number;
  readonly #everyMs: number;
  readonly #storageEvery: number;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #busy: Promise<void> = Promise.resolve();
  #storageBusy = false;

  constructor(options: { server: ServerController; backend: RunningBackend; dataDir: string; clock: () => number; everyMs: number; storageEveryMs: number }) {
    this.#server = options.server;
    this.#backend = options.backend;
    this.#dataDir = options.dataDir;
    this.#clock = options.clock;
    this.#everyMs = options.everyMs;
    this.#storageEvery = Math.max(1, Math.round(options.storageEveryMs / options.everyMs));
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#busy = this.#tick();
    }, this.#everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#busy;
  }

  async #tick(): Promise<void> {
    const tick = this.#ticks++;
    const pid = this.#server.pid;
    const epoch = this.#server.generation;
    if (pid !== undefined) {
      const t = this.#clock();
      const [rss, fds, heap] = await Promise.all([processRss(pid), openFds(pid), scrapeHeap(this.#server.url)]);
      // A sample is kept only if the same server was up before and after it: a restart in between mixes processes.
      if (rss !== undefined && fds !== undefined && this.#server.pid === pid && this.#server.generation === epoch) {
        const emulator = await this.#emulatorRss();
        this.resources.push({
          t,
          epoch,
          rssBytes: rss,
          fds,
          ...(emulator !== undefined ? { emulatorRssBytes: emulator } : {}),
          ...(heap !== undefined ? { heap } : {}),
        });
      }
    }
    if (tick % this.#storageEvery === 0 && !this.#storageBusy) {
      this.#storageBusy = true;
      const t = this.#clock();
      void Promise.all([this.#backend.storedSize(), directorySize(this.#dataDir)])
        .then(([stored, dataDir]) => {
          this.storage.push({ t, objects: stored.objects, objectBytes: stored.bytes, dataDirBytes: dataDir.bytes });
        })
        .catch(() => undefined)
        .finally(() => (this.#storageBusy = false));
    }
  }

  /** The emulator's processes and their children (a local emulator runs under a watchdog shell). */
  async #emulatorRss(): Promise<number | undefined> {
    if (this.#backend.pids.length === 0) return undefined;
    const pids = (await Promise.all(this.#backend.pids.map(processTree))).flat();
    const values = await Promise.all(pids.map(processRss));
    return values.reduce<number>((a, b) => a + (b ?? 0), 0);
  }
}
