import { SYSTEM_CLOCK, type Clock } from '@conifer/core';
import { isPreconditionFailed, listAll, type ObjectStore } from '@conifer/storage';

/**
 * The manifest says which slabs make up a namespace and up to which LSN they cover. It is the only
 * mutable thing in a namespace, and it moves by writing a new version with create-if-absent: two
 * writers cannot both create version N+1, so the loser learns it lost instead of overwriting.
 * Versions are never rewritten; old ones are garbage-collected once nothing uses them.
 */
export interface SlabRef {
  id: string;
  level: number;
  count: number;
  tombstones: number;
  bytes: number;
  minLsn: number;
  maxLsn: number;
  /**
   * Bytes of the slab's head (format version 2), so a reader opening it by range reads them in one
   * round trip. Absent for version 1 slabs and in manifests written before.
   */
  head?: number;
}

export interface Manifest {
  version: number;
  /**
   * The ownership term of the writer that committed this version (as SlateDB's `writer_epoch`). A
   * writer taking a namespace over commits the next version with a higher epoch; flushes and
   * compactions keep their writer's. Epochs never go down from one version to the next. Manifests
   * written before epochs existed read as 0.
   */
  writerEpoch: number;
  /** Every log entry with an LSN at or below this is contained in `slabs`. */
  flushedLsn: number;
  /** Ordered oldest → newest; LSN ranges do not overlap. */
  slabs: SlabRef[];
  writtenAt: string;
}

export const EMPTY_MANIFEST: Manifest = { version: 0, writerEpoch: 0, flushedLsn: 0, slabs: [], writtenAt: new Date(0).toISOString() };

const VERSION_DIGITS = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a commit changes: the contents, and the writer epoch only when taking over. */
export type ManifestChange = Omit<Manifest, 'version' | 'writtenAt' | 'writerEpoch'> & { writerEpoch?: number };

export class ManifestConflictError extends Error {
  override name = 'ManifestConflictError';
}

export function manifestKey(prefix: string, version: number): string {
  return prefix + String(version).padStart(VERSION_DIGITS, '0');
}

/** Throws when a manifest breaks an invariant; used on load and before every commit. */
export function checkManifestInvariants(m: Manifest): void {
  const fail = (why: string) => {
    throw new Error(`manifest v${m.version} is invalid: ${why}`);
  };
  if (!Number.isSafeInteger(m.version) || m.version < 0) fail('bad version');
  if (!Number.isSafeInteger(m.writerEpoch) || m.writerEpoch < 0) fail('bad writer epoch');
  const ids = new Set<string>();
  let previousMax = 0;
  for (const s of m.slabs) {
    if (ids.has(s.id)) fail(`slab ${s.id} listed twice`);
    ids.add(s.id);
    if (s.count > 0 && s.minLsn > s.maxLsn) fail(`slab ${s.id} has minLsn > maxLsn`);
    if (s.count > 0 && s.minLsn <= previousMax) fail(`slab ${s.id} overlaps the LSN range of an older slab`);
    if (s.maxLsn > m.flushedLsn) fail(`slab ${s.id} holds LSN ${s.maxLsn} beyond flushedLsn ${m.flushedLsn}`);
    if (s.count > 0) previousMax = s.maxLsn;
  }
}

/** Listings read by latest() before a listed but unreadable newest version is an error. */
const LATEST_ATTEMPTS = 5;

/** Reads and writes the manifest versions under one namespace's `manifest/` prefix. */
export class ManifestStore {
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #clock: Clock;

  /** `clock` dates each version's `writtenAt` (GC keeps versions for a grace period after it). */
  constructor(store: ObjectStore, prefix: string, clock: Clock = SYSTEM_CLOCK) {
    this.#store = store;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  /** All stored versions, ascending. */
  async versions(): Promise<number[]> {
    const out: number[] = [];
    for await (const meta of listAll(this.#store, this.#prefix)) out.push(Number(meta.key.slice(this.#prefix.length)));
    return out.sort((a, b) => a - b);
  }

  async read(version: number): Promise<Manifest | null> {
    return (await this.readEntry(version))?.manifest ?? null;
  }

  /** A version and the etag of its object: a namespace deleted and created again reuses version numbers, never etags. */
  async readEntry(version: number): Promise<{ manifest: Manifest; etag: string } | null> {
    const obj = await this.#store.get(manifestKey(this.#prefix, version));
    if (!obj) return null;
    const stored = JSON.parse(decoder.decode(obj.data)) as Omit<Manifest, 'writerEpoch'> & { writerEpoch?: number };
    const m: Manifest = { ...stored, writerEpoch: stored.writerEpoch ?? 0 };
    checkManifestInvariants(m);
    return { manifest: m, etag: obj.etag };
  }

  /**
   * The newest manifest, or the empty one for a new namespace. A listed version that is gone by
   * the time it is read was garbage-collected, which happens only once a newer version exists: the
   * listing is read again, never an older version taken instead (its log objects and slabs may be
   * gone too).
   */
  async latest(): Promise<Manifest> {
    return (await this.latestEntry()).manifest;
  }

  /** `latest` with the etag of the version read (none for a namespace without a manifest). */
  async latestEntry(): Promise<{ manifest: Manifest; etag: string | undefined }> {
    let newest = 0;
    for (let attempt = 1; attempt <= LATEST_ATTEMPTS; attempt++) {
      const versions = await this.versions();
      if (versions.length === 0) return { manifest: EMPTY_MANIFEST, etag: undefined };
      newest = versions[versions.length - 1]!;
      const entry = await this.readEntry(newest);
      if (entry) return entry;
    }
    throw new Error(`manifest version ${newest} under ${this.#prefix} is listed but cannot be read`);
  }

  /**
   * Writes `next` as version `base.version + 1`, with `base`'s writer epoch unless `next` raises it
   * (a takeover). Throws ManifestConflictError when another writer created that version first.
   */
  async commit(base: Manifest, next: ManifestChange): Promise<Manifest> {
    const manifest: Manifest = {
      ...next,
      version: base.version + 1,
      writerEpoch: next.writerEpoch ?? base.writerEpoch,
      writtenAt: new Date(this.#clock.now()).toISOString(),
    };
    if (manifest.writerEpoch < base.writerEpoch) throw new Error(`manifest v${manifest.version} would lower the writer epoch below ${base.writerEpoch}`);
    checkManifestInvariants(manifest);
    try {
      await this.#store.putIfAbsent(manifestKey(this.#prefix, manifest.version), encoder.encode(JSON.stringify(manifest)));
    } catch (err) {
      if (isPreconditionFailed(err)) throw new ManifestConflictError(`manifest version ${manifest.version} was written by another writer`);
      throw err;
    }
    return manifest;
  }

  async delete(version: number): Promise<void> {
    await this.#store.delete(manifestKey(this.#prefix, version));
  }
}
