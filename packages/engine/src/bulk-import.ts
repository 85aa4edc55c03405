import { AlreadyExistsError, type Clock, type RandomSource } from '@conifer/core';
import { EMPTY_MANIFEST, ManifestConflictError, ManifestStore, type SlabRef } from '@conifer/manifest';
import { buildSlab, type SlabRow } from '@conifer/slab';
import { listAll, type ObjectStore } from '@conifer/storage';
import type { Logger } from 'pino';
import type { IndexHandle, RecordInput } from './data-plane.ts';
import { displayName, namespacePrefix, slabIdTime, slabKey } from './layout.ts';
import { SlabWriter } from './slab-writer.ts';
import { toPutRecords } from './writes.ts';

/**
 * Bulk import: a new namespace written straight into L0 slabs, never through the request log.
 *
 * Each batch becomes one L0 slab whose rows all carry LSN `i + 1` (slab `i`, from 0), so the
 * manifest's invariants hold (slab LSN ranges increase, none beyond `flushedLsn`), a later batch
 * wins over an earlier one for an id both hold, and the namespace's request log — once a write
 * takes the namespace over — starts at `flushedLsn + 1`, above every imported row. The namespace
 * comes into being with its first manifest (version 1, create-if-absent): a write that reached the
 * namespace first owns version 1 already (every first write takes the namespace over by committing
 * it before it appends), and the import then loses, deleting its slabs. Version 1 carries writer
 * epoch 1; the first write after the import takes over at epoch 2, like after any restart.
 *
 * Slabs are written before the manifest that lists them: a crash part-way leaves unreferenced slabs
 * under a namespace without a manifest. The next import into that namespace deletes those older than
 * the GC grace period before it starts; a namespace created by a write meanwhile has its GC delete
 * them as orphans (docs/operations.md, "Bulk import").
 */
export interface ImportOptions {
  /** Aborting stops the import before its next batch (or its commit); its slabs are deleted. */
  signal?: AbortSignal | undefined;
  /** After each batch is stored as a slab, with the number of records it held. */
  onBatch?(records: number): void;
}

/** An import whose slabs are stored but not yet listed by any manifest. */
export interface StagedImport {
  readonly namespace: string;
  /** Records stored (duplicates within a batch counted once). */
  readonly records: number;
  readonly slabs: number;
  /**
   * Commits the namespace's first manifest, then registers the namespace. AlreadyExistsError (and
   * the slabs deleted) when the namespace came into being meanwhile.
   */
  commit(): Promise<void>;
  /** Deletes the staged slabs (an import aborted or cancelled before its commit). */
  discard(): Promise<void>;
}

export interface ImportDeps {
  store: ObjectStore;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  dimension: number;
  /** Orphans younger than this may be another writer's in-flight slabs: left alone. */
  gcGraceMs: number;
  /** Whether the namespace exists in the registry. */
  exists(): Promise<boolean>;
  /** Registers the namespace (after the commit). */
  register(): Promise<unknown>;
  /** After the commit: drop any cached view, open the namespace from the store and start its compactions. */
  committed(): Promise<void>;
}

function alreadyExists(namespace: string): AlreadyExistsError {
  return new AlreadyExistsError(`Namespace ${displayName(namespace)} already exists; an import only creates new namespaces.`);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the import was cancelled');
}

/** The rows of one batch as a flush shapes them; the last occurrence of an id wins. */
function rowsOf(index: IndexHandle, batch: RecordInput[], lsn: number): SlabRow[] {
  const byId = new Map<string, SlabRow>();
  for (const r of toPutRecords(index, batch)) {
    byId.delete(r.id); // keep the insertion order of the last occurrence
    byId.set(r.id, { id: r.id, lsn, values: r.values, ...(r.sparse ? { sparse: r.sparse } : {}), metadata: r.metadata });
  }
  return [...byId.values()];
}

/** Stores every batch as an L0 slab of a namespace that must not exist yet; commits nothing. */
export async function stageImport(
  deps: ImportDeps,
  index: IndexHandle,
  namespace: string,
  batches: AsyncIterable<RecordInput[]>,
  options: ImportOptions = {},
): Promise<StagedImport> {
  const { store, clock, signal } = { ...deps, signal: options.signal };
  const prefix = namespacePrefix(index.id, namespace);
  const manifests = new ManifestStore(store, `${prefix}manifest/`, clock);
  const refuseExisting = async () => {
    if ((await deps.exists()) || (await manifests.versions()).length > 0) throw alreadyExists(namespace);
  };
  await refuseExisting();
  await removeLeftovers(deps, prefix, namespace);
  const writer = new SlabWriter({ store, prefix, clock, random: deps.random });
  const refs: SlabRef[] = [];
  let records = 0;
  const discard = async () => {
    await Promise.all(refs.map((ref) => store.delete(slabKey(prefix, ref.id)).catch(() => undefined)));
    refs.length = 0;
  };
  try {
    for await (const batch of batches) {
      throwIfAborted(signal);
      if (batch.length === 0) continue;
      const rows = rowsOf(index, batch, refs.length + 1);
      // Written out and released, never queried from this buffer: huge pages would only make the
      // build's first writes wait for the kernel to compact memory (as a flush's would).
      const { bytes, header } = await buildSlab(rows, { dimension: deps.dimension, level: 0, hugePages: false });
      throwIfAborted(signal);
      const written = await writer.write(bytes, header);
      refs.push(written.ref);
      writer.release(written);
      records += rows.length;
      options.onBatch?.(rows.length);
    }
    throwIfAborted(signal);
  } catch (err) {
    await discard();
    throw err;
  }
  return {
    namespace,
    records,
    get slabs() {
      return refs.length;
    },
    discard,
    async commit() {
      try {
        throwIfAborted(signal);
        await refuseExisting();
        await manifests.commit(EMPTY_MANIFEST, { flushedLsn: refs.length, slabs: [...refs], writerEpoch: 1 });
      } catch (err) {
        await discard();
        if (err instanceof ManifestConflictError) throw alreadyExists(namespace);
        throw err;
      }
      await deps.register();
      await deps.committed();
    },
  };
}

/**
 * Slabs under a namespace without a manifest were left by an import that crashed (or lost its
 * store) part-way; those older than the GC grace period are deleted. Younger ones may belong to a
 * write that took the namespace over a moment ago and is flushing: they are left to its GC.
 */
async function removeLeftovers(deps: ImportDeps, prefix: string, namespace: string): Promise<void> {
  const slabPrefix = `${prefix}slabs/`;
  const cutoff = deps.clock.now() - deps.gcGraceMs;
  let removed = 0;
  for await (const meta of listAll(deps.store, slabPrefix)) {
    const id = meta.key.slice(slabPrefix.length, -'.slab'.length);
    if (slabIdTime(id) > cutoff) continue;
    await deps.store.delete(meta.key);
    removed++;
  }
  if (removed > 0) deps.logger.info({ namespace, removed }, 'deleted slabs left by an interrupted import');
}
