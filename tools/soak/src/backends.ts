/**
 * Where the server under test keeps its objects. One row per backend: local disk, or one of the
 * cloud emulators of tools/emulators, started for the run with the options in its row (a new
 * emulator variant is one more row).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulators, type EmulatorKind, type StartOptions } from '@conifer/emulators';
import { listAll, openObjectStore } from '@conifer/storage';

interface BackendSpec {
  /** Which emulator to start (none: the local-disk store). */
  emulator?: EmulatorKind;
  /** Options for `startEmulators` (which S3 server, …). */
  options?: StartOptions;
}

export const BACKENDS = {
  local: {},
  minio: { emulator: 's3', options: { s3: 'minio' } },
  moto: { emulator: 's3', options: { s3: 'moto' } },
  gcs: { emulator: 'gcs' },
  // Azurite on disk, as a process: in memory it stopped answering ten minutes into a soak
  // (an emulator limit, see StartOptions.azuritePersistence).
  azure: { emulator: 'azure', options: { azuritePersistence: 'disk', runtime: 'process' } },
  'azure-oldest': { emulator: 'azure', options: { azurite: 'oldest', runtime: 'process' } },
} satisfies Record<string, BackendSpec>;

export type BackendName = keyof typeof BACKENDS;

export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

export function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(BACKENDS, name);
}

export interface StoredSize {
  objects: number;
  bytes: number;
}

export interface RunningBackend {
  name: BackendName;
  /** `CONIFER_STORAGE` for the server. */
  storage: string;
  /** The cloud's standard variables pointing the server at the emulator (empty for local disk). */
  env: Record<string, string>;
  /** What serves the objects, e.g. `local disk` or `minio RELEASE.… (process)`. */
  description: string;
  /** Process ids of the emulator, when it runs as local processes. */
  pids: number[];
  /** Objects the server has stored and their total size (a listing of its prefix). */
  storedSize(): Promise<StoredSize>;
  stop(): Promise<void>;
}

export async function startBackend(name: BackendName, options: { dataDir: string; prefix: string; log: (line: string) => void }): Promise<RunningBackend> {
  const spec: BackendSpec = BACKENDS[name];
  if (spec.emulator === undefined) {
    const root = join(options.dataDir, 'objects');
    return { name, storage: root, env: {}, description: 'local disk', pids: [], storedSize: () => directorySize(root), stop: async () => undefined };
  }
  const emulators = await startEmulators([spec.emulator], { ...spec.options, log: options.log });
  const emulator = emulators.all[0]!;
  const storage = emulator.storageUrl(options.prefix);
  const store = openObjectStore(storage, { env: emulators.env, retries: false });
  return {
    name,
    storage,
    env: emulators.env,
    description: `${emulator.implementation} ${emulator.version} (${emulator.runtime})`,
    pids: emulator.pids,
    async storedSize() {
      let objects = 0;
      let bytes = 0;
      for await (const meta of listAll(store, '')) {
        objects++;
        bytes += meta.size;
      }
      return { objects, bytes };
    },
    stop: () => emulators.stop(),
  };
}

/** Files under `root` and their total size (files vanishing during the walk are skipped). */
export async function directorySize(root: string): Promise<StoredSize> {
  let objects = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        try {
          bytes += (await stat(path)).size;
          objects++;
        } catch {
          // removed meanwhile (GC, temp files)
        }
      }
    }
  };
  await walk(root);
  return { objects, bytes };
}
