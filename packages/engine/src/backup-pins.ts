import type { SlabRef } from '@conifer/manifest';
import { listAll, type ObjectStore } from '@conifer/storage';
import { backupPinKey, backupPinsPrefix, namespacePinsPrefix, namespacePrefix, slabKey } from './layout.ts';

/**
 * Backup pins (docs/adr/0010-backups.md): a backup of an index is one pin per namespace, the
 * manifest the namespace had at the backup's LSN, stored at `_backups/<index-id>/<ns>/<backup-id>`.
 * A pin copies no slab: it names the namespace's own immutable slabs, and everything that deletes
 * slabs keeps the pinned ones —
 *
 * - the namespace's GC (`gc-plan.ts`, `pinned`);
 * - deleting the namespace or the whole index (`deleteUnpinned`), which removes everything else;
 * - deleting the backup (`releaseBackup`) deletes the pinned slabs no manifest and no other pin
 *   references any more (those of a deleted index or namespace; a live namespace's GC would too).
 *
 * Pins live outside `<index-id>/` so that the index's deletion leaves them (and the backup
 * restorable), and per namespace so that its GC reads only its own.
 */
export interface BackupPin {
  backupId: string;
  indexId: string;
  /** The namespace's name ("" is the default namespace). */
  namespace: string;
  /** Every log entry at or below this LSN is in `slabs`: the namespace as the backup holds it. */
  flushedLsn: number;
  /** Oldest → newest, as the manifest lists them. */
  slabs: SlabRef[];
  /** Live records in `slabs`. */
  records: number;
  /** The namespace's metadata schema (what the control plane held), restored with it. */
  schema?: unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function sizeOfPin(pin: BackupPin): number {
  return pin.slabs.reduce((n, s) => n + s.bytes, 0);
}

export async function writePin(store: ObjectStore, pin: BackupPin): Promise<void> {
  await store.put(backupPinKey(pin.indexId, pin.namespace, pin.backupId), encoder.encode(JSON.stringify(pin)));
}

async function readPin(store: ObjectStore, key: string): Promise<BackupPin | undefined> {
  const obj = await store.get(key);
  return obj ? (JSON.parse(decoder.decode(obj.data)) as BackupPin) : undefined;
}

/** Every pin of the index's namespaces (of every backup), with its key. */
async function pinsOfIndex(store: ObjectStore, indexId: string): Promise<Array<{ key: string; pin: BackupPin }>> {
  const keys: string[] = [];
  for await (const meta of listAll(store, backupPinsPrefix(indexId))) keys.push(meta.key);
  const out: Array<{ key: string; pin: BackupPin }> = [];
  for (const key of keys) {
    const pin = await readPin(store, key);
    if (pin) out.push({ key, pin });
  }
  return out;
}

/** The pins of one backup of the index, by namespace name. */
export async function pinsOfBackup(store: ObjectStore, indexId: string, backupId: string): Promise<BackupPin[]> {
  const pins = await pinsOfIndex(store, indexId);
  return pins
    .filter(({ key }) => key.endsWith(`/${backupId}`))
    .map(({ pin }) => pin)
    .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
}

/** Slab ids any backup pins in the namespace (its GC keeps them). */
export async function pinnedSlabIds(store: ObjectStore, indexId: string, namespace: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const keys: string[] = [];
  for await (const meta of listAll(store, namespacePinsPrefix(indexId, namespace))) keys.push(meta.key);
  for (const key of keys) for (const s of (await readPin(store, key))?.slabs ?? []) ids.add(s.id);
  return ids;
}

/** Object keys of every slab any backup of the index pins. */
async function pinnedSlabKeys(store: ObjectStore, indexId: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const { pin } of await pinsOfIndex(store, indexId)) {
    const prefix = namespacePrefix(indexId, pin.namespace);
    for (const s of pin.slabs) keys.add(slabKey(prefix, s.id));
  }
  return keys;
}

/**
 * Deletes every object under `prefix` (a namespace's or the whole index's) but the slabs a backup
 * pins. Collects the keys first: deleting while paginating could skip keys on lazy listings.
 */
export async function deleteUnpinned(store: ObjectStore, indexId: string, prefix: string): Promise<number> {
  const keep = await pinnedSlabKeys(store, indexId);
  const keys: string[] = [];
  for await (const meta of listAll(store, prefix)) if (!keep.has(meta.key)) keys.push(meta.key);
  for (const key of keys) await store.delete(key);
  return keys.length;
}

/**
 * Deletes the backup's pins, then the slabs only they kept: those no stored manifest version of
 * their namespace lists and no other pin names. A slab that leaves every manifest never comes back
 * (flushes and compactions write new ids), so one no manifest lists now is garbage for good; a
 * live namespace's GC would delete it too, but only on its next collection. Idempotent: a crash
 * part-way is finished by the next call. Returns the slabs deleted.
 */
export async function releaseBackup(store: ObjectStore, indexId: string, backupId: string): Promise<number> {
  const all = await pinsOfIndex(store, indexId);
  const mine = all.filter(({ key }) => key.endsWith(`/${backupId}`));
  if (mine.length === 0) return 0;
  const others = all.filter(({ key }) => !key.endsWith(`/${backupId}`));
  for (const { key } of mine) await store.delete(key);
  let deleted = 0;
  for (const { pin } of mine) {
    const prefix = namespacePrefix(indexId, pin.namespace);
    const keep = new Set(others.filter((o) => o.pin.namespace === pin.namespace).flatMap((o) => o.pin.slabs.map((s) => s.id)));
    for (const id of await listedSlabIds(store, prefix)) keep.add(id);
    for (const s of pin.slabs) {
      if (keep.has(s.id)) continue;
      await store.delete(slabKey(prefix, s.id));
      deleted++;
    }
  }
  return deleted;
}

/**
 * Slab ids every stored manifest version of the namespace lists. A listed version gone by the time
 * it is read was expired by GC once a newer one existed, which the listing may have missed: list
 * again. Once every listed version was read, a slab still live is in the newest of them (a newer
 * version keeps only slabs of the one it was built on, or new ones).
 */
async function listedSlabIds(store: ObjectStore, prefix: string): Promise<Set<string>> {
  for (;;) {
    const ids = new Set<string>();
    const keys: string[] = [];
    for await (const meta of listAll(store, `${prefix}manifest/`)) keys.push(meta.key);
    let complete = true;
    for (const key of keys) {
      const obj = await store.get(key);
      if (!obj) {
        complete = false;
        break;
      }
      for (const s of (JSON.parse(decoder.decode(obj.data)) as { slabs: SlabRef[] }).slabs) ids.add(s.id);
    }
    if (complete) return ids;
  }
}
