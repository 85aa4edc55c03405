import { computeShadows, provisionalShadows, type SlabLayer } from '@conifer/router';
import type { AnnDonor } from '@conifer/index-builder';
import type { Manifest, ManifestChange, ManifestStore, SlabRef } from '@conifer/manifest';
import { ListAssigner, SlabReader, type PageCache, type RangeSource } from '@conifer/slab';
import { ObjectStoreError, type ObjectStore } from '@conifer/storage';
import type { WriterFence } from './fence.ts';
import { slabKey } from './layout.ts';
import { Mutex } from './mutex.ts';
import type { ReleasedMemory } from './released-memory.ts';

/**
 * The manifest a namespace's view is built on, the readers of the slabs it lists and their shadow
 * layers (what reads run against), and the one way to move it: commit the next version (fenced:
 * losing the race makes the view stale), then install it. Flush and compaction commit under `lock`,
 * and GC classifies under it, so no commit happens while GC decides what is garbage.
 *
 * A view commits only as the namespace's owner: its first commit — or `acquire`, before the first
 * write — is a takeover, the current contents under the next writer epoch. Opening a namespace
 * (to read it) writes nothing.
 */
export interface ManifestStateOptions {
  store: ObjectStore;
  prefix: string;
  manifests: ManifestStore;
  fence: WriterFence;
  onTakeover: () => void;
  /**
   * The process's page cache: given, slabs are opened by range (their head only; vectors read in
   * pages as queries need them, or whole when the memory budget promotes them). Absent, they are
   * loaded whole.
   */
  pages?: PageCache | undefined;
  /** Where the readers this state drops are tracked until collected (see ReleasedMemory). */
  released?: ReleasedMemory | undefined;
}

/** Ranged reads of one slab object, in place where the store can (`readRangeInto`). */
export function slabRangeSource(store: ObjectStore, key: string): RangeSource {
  const source: RangeSource = (start, end) => store.getRange(key, start, end);
  if (store.readRangeInto) source.into = (start, buffers) => store.readRangeInto!(key, start, buffers);
  source.remote = store.remote === true;
  return source;
}

/**
 * How a namespace's slab readers reach their bytes: whole, or by range through the page cache
 * (`ref`, the manifest's entry, says how large the slab and its head are when it knows).
 */
export function openSlab(store: ObjectStore, key: string, id: string, pages: PageCache | undefined, ref: SlabRef | undefined): Promise<SlabReader> {
  // A slab small enough to hold whole is read with one plain GET (a slab cache keeps it whole).
  const small = ref !== undefined && pages !== undefined && ref.bytes <= pages.wholeUpTo;
  if (pages && !small) return SlabReader.open(id, slabRangeSource(store, key), { cache: pages, cacheKey: key, size: ref?.bytes, head: ref?.head });
  return store.get(key).then((obj) => {
    if (!obj) throw new Error(`slab ${id} is missing`);
    return SlabReader.load(id, obj.data);
  });
}

export class ManifestState {
  /** Serializes manifest changes (flush and compaction commits) and GC's classification. */
  readonly lock = new Mutex();
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #manifests: ManifestStore;
  readonly #fence: WriterFence;
  /** Called after a takeover commit: the log's tail must be read before the next append. */
  readonly #onTakeover: () => void;
  readonly #pages: PageCache | undefined;
  readonly #released: ReleasedMemory | undefined;
  #manifest: Manifest;
  #readers = new Map<string, SlabReader>();
  #layers: SlabLayer[] = [];
  /** Whether a manifest was installed: the first one is installed with provisional shadows. */
  #installed = false;
  /** The background computation of the provisional layers' shadows, while it runs. */
  #settling: Promise<void> | undefined;

  private constructor(options: ManifestStateOptions, manifest: Manifest) {
    this.#store = options.store;
    this.#prefix = options.prefix;
    this.#manifests = options.manifests;
    this.#fence = options.fence;
    this.#onTakeover = options.onTakeover;
    this.#pages = options.pages;
    this.#released = options.released;
    this.#manifest = manifest;
  }

  /** The state of `manifest` (default: the newest in the store), its slabs loaded. */
  static async load(options: ManifestStateOptions, manifest?: Manifest): Promise<ManifestState> {
    manifest ??= await options.manifests.latest();
    const state = new ManifestState(options, manifest);
    await state.install(manifest, new Map());
    return state;
  }

  get current(): Manifest {
    return this.#manifest;
  }

  /** Slabs as reads see them, newest first, with what newer slabs shadow. */
  get layers(): SlabLayer[] {
    return this.#layers;
  }

  /** The slab readers of the current manifest. */
  readers(): Iterable<SlabReader> {
    return this.#readers.values();
  }

  /** Ends the readers' promotions and tracks their memory until collected: the namespace closed. */
  letGo(): void {
    for (const reader of this.#readers.values()) {
      reader.stopPromotion();
      this.#released?.track(reader, reader.memoryBytes);
    }
  }

  /** Memory the slab readers of the current manifest hold. */
  memoryBytes(): number {
    let bytes = 0;
    for (const reader of this.#readers.values()) bytes += reader.memoryBytes;
    return bytes;
  }

  reader(id: string): SlabReader | undefined {
    return this.#readers.get(id);
  }

  /**
   * Puts the memtables' rows into groups of the lists of the namespace's largest IVF slab (the
   * quantizer its builds reuse), or undefined while it has none (or its layout is not loaded yet).
   */
  listAssigner(): ListAssigner | undefined {
    const best = this.#largestAnnSlab();
    return best && ListAssigner.of(best.ivfLayout(), best.header.ann, best.dimension);
  }

  /** The largest ANN slab of the namespace: its trained quantizer can serve the next build. */
  async annDonor(): Promise<AnnDonor | undefined> {
    const best = this.#largestAnnSlab();
    const bytes = await best?.donorBytes();
    return best && bytes ? { header: best.header.ann!, bytes } : undefined;
  }

  /** The reader of the namespace's largest ANN slab, if it has one. */
  #largestAnnSlab(): SlabReader | undefined {
    let best: SlabReader | undefined;
    for (const reader of this.#readers.values()) if (reader.header.ann && (!best || reader.count > best.count)) best = reader;
    return best;
  }

  /**
   * Writes the next manifest version (the caller holds `lock`), taking the namespace over first if
   * this view does not own it yet. Losing the race to another writer makes this view stale: the
   * engine reopens the namespace from the winner's manifest (what this view had is in the log).
   */
  async commit(base: Manifest, next: ManifestChange): Promise<Manifest> {
    if (this.#fence.epoch === 0) base = await this.#takeOver(base);
    return this.#fence.committing(base.version + 1, () => this.#manifests.commit(base, { ...next, writerEpoch: base.writerEpoch }));
  }

  /** Takes the namespace over unless this view owns it; true when it just did. */
  acquire(): Promise<boolean> {
    if (this.#fence.epoch > 0) return Promise.resolve(false);
    return this.lock.run(async () => {
      if (this.#fence.epoch > 0) return false;
      await this.#takeOver(this.#manifest);
      return true;
    });
  }

  /** Commits `base`'s contents under the next writer epoch and installs it (the caller holds `lock`). */
  async #takeOver(base: Manifest): Promise<Manifest> {
    const { flushedLsn, slabs } = base;
    const taken = await this.#fence.committing(base.version + 1, () => this.#manifests.commit(base, { flushedLsn, slabs, writerEpoch: base.writerEpoch + 1 }));
    await this.install(taken, new Map());
    this.#fence.owned(taken.writerEpoch);
    this.#onTakeover();
    return taken;
  }

  /** Makes `manifest` current: loads slabs not yet in memory (or in `fresh`) and recomputes shadows. */
  async install(manifest: Manifest, fresh: Map<string, SlabReader>): Promise<void> {
    const readers = new Map<string, SlabReader>();
    await Promise.all(
      manifest.slabs.map(async (ref) => {
        let reader = fresh.get(ref.id) ?? this.#readers.get(ref.id);
        reader ??= await openSlab(this.#store, slabKey(this.#prefix, ref.id), ref.id, this.#pages, ref).catch((err: unknown) => {
          // A store that fails or does not answer stays that error (retryable, 503); anything
          // else — a missing or damaged slab — names the slab and the manifest.
          if (err instanceof ObjectStoreError) throw err;
          throw new Error(`slab ${ref.id} referenced by manifest v${manifest.version} could not be read: ${String(err)}`, { cause: err });
        });
        // The ANN index is read into native memory off the event loop before queries see the slab.
        await reader.loadAnn();
        readers.set(ref.id, reader);
      }),
    );
    const newestFirst = [...manifest.slabs].reverse().map((ref) => readers.get(ref.id)!);
    // Opening, the slabs' ids have never been compared: reads start on provisional layers, which
    // check the rows they return against newer slabs, until the comparison the namespace starts in
    // the background is done (compareIdsInBackground). Later manifests differ by a slab or a
    // merge: computeShadows reuses what it computed.
    const opening = !this.#installed;
    const layers = opening ? await provisionalShadows(newestFirst) : await computeShadows(newestFirst, this.#layers);
    this.#installed = true;
    this.#manifest = manifest;
    for (const [id, reader] of this.#readers) if (!readers.has(id)) this.#released?.track(reader, reader.memoryBytes);
    this.#readers = readers;
    this.#layers = layers;
  }

  /**
   * Starts comparing the slabs' ids in the background (it yields to the event loop, but takes
   * it for most of a large namespace's first second), unless that runs or is done. Not when the
   * namespace opens: its first query, which reads every slab's head, would wait behind it.
   */
  compareIdsInBackground(): void {
    if (this.#settling === undefined && this.#layers.some((layer) => layer.unmarked)) this.#settling = this.#settle(this.#layers);
  }

  /**
   * The layers with every shadow marked: waits for the comparison of slab ids that opening the
   * namespace started (exact record counts need it; searches do not).
   */
  async settledLayers(): Promise<SlabLayer[]> {
    while (this.#layers.some((layer) => layer.unmarked)) await (this.#settling ??= this.#settle(this.#layers));
    return this.#layers;
  }

  /** Computes `provisional`'s shadows and installs them, unless another manifest came first. */
  #settle(provisional: SlabLayer[]): Promise<void> {
    const settling = computeShadows(
      provisional.map((layer) => layer.reader),
      provisional,
    ).then(
      (layers) => {
        if (this.#layers === provisional) this.#layers = layers;
        if (this.#settling === settling) this.#settling = undefined;
      },
      (err: unknown) => {
        // Retried by the next settledLayers(); until then reads keep checking rows one by one.
        if (this.#settling === settling) this.#settling = undefined;
        throw err;
      },
    );
    settling.catch(() => undefined);
    return settling;
  }
}
