import { AlreadyExistsError, failpoint, type Clock } from '@conifer/core';
import { EMPTY_MANIFEST, ManifestConflictError, ManifestStore, type Manifest } from '@conifer/manifest';
import { isPreconditionFailed, type ObjectStore } from '@conifer/storage';
import type { BackupPin } from './backup-pins.ts';
import type { IndexHandle } from './data-plane.ts';
import { displayName, namespacePrefix, slabKey } from './layout.ts';

/**
 * Restoring one namespace of a backup into a new index: the pinned slabs are copied under the new
 * index's namespace (same ids), then its first manifest — the pin's, under writer epoch 1 — is
 * committed create-if-absent and the namespace registered, as a bulk import commits
 * (`bulk-import.ts`). Copying makes the new index independent of the backup: deleting the backup
 * or the source never touches it.
 *
 * Every step is idempotent, so a restore job interrupted by a crash is run again from the start:
 * a slab already copied is skipped, and a namespace whose version 1 is already this pin's is done.
 * A namespace that came into being otherwise (a write to the new index while it was restored) is
 * AlreadyExistsError; the slabs copied for it are then orphans its GC deletes.
 */
export interface RestoreDeps {
  store: ObjectStore;
  clock: Clock;
  /** Registers the namespace (after the commit). */
  register(): Promise<unknown>;
  /** After the commit: drop any cached view and open the namespace from the store. */
  committed(): Promise<void>;
}

function sameContents(m: Manifest, pin: BackupPin): boolean {
  return m.flushedLsn === pin.flushedLsn && m.slabs.length === pin.slabs.length && m.slabs.every((s, i) => s.id === pin.slabs[i]!.id);
}

function alreadyExists(namespace: string): AlreadyExistsError {
  return new AlreadyExistsError(`Namespace ${displayName(namespace)} already exists in the index being restored; a restore only creates new namespaces.`);
}

/** Copies and commits the pin's namespace into `target`; `onSlab` after each slab with its bytes. */
export async function restoreNamespace(deps: RestoreDeps, target: IndexHandle, pin: BackupPin, onSlab?: (bytes: number) => void): Promise<void> {
  const { store } = deps;
  const from = namespacePrefix(pin.indexId, pin.namespace);
  const to = namespacePrefix(target.id, pin.namespace);
  const manifests = new ManifestStore(store, `${to}manifest/`, deps.clock);
  // Done by an earlier run of this job (a restart interrupted it after the commit)?
  if (await committedEarlier(manifests, pin)) {
    await deps.register();
    await deps.committed();
    return;
  }
  for (const slab of pin.slabs) {
    const key = slabKey(to, slab.id);
    if (!(await store.head(key))) {
      const obj = await store.get(slabKey(from, slab.id));
      if (!obj) throw new Error(`slab ${slab.id} of namespace ${displayName(pin.namespace)} is missing from the backup`);
      try {
        await store.putIfAbsent(key, obj.data);
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
    }
    onSlab?.(slab.bytes);
    failpoint('restore:after-slab');
  }
  try {
    await manifests.commit(EMPTY_MANIFEST, { flushedLsn: pin.flushedLsn, slabs: [...pin.slabs], writerEpoch: 1 });
  } catch (err) {
    if (!(err instanceof ManifestConflictError)) throw err;
    if (!(await committedEarlier(manifests, pin))) throw alreadyExists(pin.namespace);
  }
  await deps.register();
  await deps.committed();
}

/**
 * Whether the namespace's manifest history starts with this pin's contents. A history whose
 * version 1 has been collected since (writes to the restored namespace moved it on) was started by
 * this job too: nothing else writes a namespace of an index that is being restored but its users,
 * and their first write would have made version 1 empty — a restore that then fails.
 */
async function committedEarlier(manifests: ManifestStore, pin: BackupPin): Promise<boolean> {
  const versions = await manifests.versions();
  if (versions.length === 0) return false;
  const first = await manifests.read(1);
  if (first) {
    if (sameContents(first, pin)) return true;
    throw alreadyExists(pin.namespace);
  }
  return versions[0]! > 1;
}
