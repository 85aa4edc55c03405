import type { SlabRef } from '@conifer/manifest';
import type { Clock, RandomSource } from '@conifer/core';
import { SlabReader, type PageCache, type SlabHeader } from '@conifer/slab';
import { ObjectStoreError, type ObjectStore } from '@conifer/storage';
import { newSlabId, slabKey } from './layout.ts';
import { openSlab, slabRangeSource } from './manifest-state.ts';

/** A slab this process stored, and its reader. */
export interface WrittenSlab {
  ref: SlabRef;
  reader: SlabReader;
}

/**
 * Stores built slabs (flush and compaction output) under new ids, and remembers which are in
 * flight — written, but not yet in a committed manifest — so that GC leaves them alone.
 */
export class SlabWriter {
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #inflight = new Set<string>();
  readonly #pages: PageCache | undefined;

  constructor(options: { store: ObjectStore; prefix: string; clock: Clock; random: RandomSource; pages?: PageCache | undefined }) {
    this.#store = options.store;
    this.#pages = options.pages;
    this.#prefix = options.prefix;
    this.#clock = options.clock;
    this.#random = options.random;
  }

  /** Ids of the slabs written but not yet released. */
  get inflight(): ReadonlySet<string> {
    return this.#inflight;
  }

  /** Stores a built slab under a new id; it stays in flight until `release`. */
  async write(bytes: Uint8Array, header: SlabHeader): Promise<WrittenSlab> {
    const id = newSlabId(this.#clock.now(), this.#random);
    this.#inflight.add(id);
    await this.#store.putIfAbsent(slabKey(this.#prefix, id), bytes);
    const ref: SlabRef = {
      id,
      level: header.level,
      count: header.count,
      tombstones: header.tombstones,
      bytes: bytes.length,
      minLsn: header.minLsn,
      maxLsn: header.maxLsn,
      ...headOf(header),
    };
    // Built by this process a moment ago: no checksum pass needed. Read by range, its vectors
    // stay in memory for now (the memory budget may shed them: they are in the store).
    const key = slabKey(this.#prefix, id);
    const pages = this.#pages;
    const reader = pages
      ? await SlabReader.fromBuilt(id, bytes, slabRangeSource(this.#store, key), { cache: pages, cacheKey: key })
      : await SlabReader.load(id, bytes, { verify: false });
    return { ref, reader };
  }

  /** A new slab id, in flight from now on: another node stores the slab under it (a remote build). */
  reserve(): string {
    const id = newSlabId(this.#clock.now(), this.#random);
    this.#inflight.add(id);
    return id;
  }

  /** Gives up a reserved id whose slab was never stored. */
  unreserve(id: string): void {
    this.#inflight.delete(id);
  }

  /** Loads a slab another node stored under a reserved id. */
  async load(id: string): Promise<WrittenSlab> {
    const reader = await openSlab(this.#store, slabKey(this.#prefix, id), id, this.#pages, undefined).catch((err: unknown) => {
      if (err instanceof ObjectStoreError) throw err; // the store's own error: retryable
      throw new Error(`slab ${id} built by an indexer could not be read: ${String(err)}`, { cause: err });
    });
    const { header } = reader;
    const ref: SlabRef = {
      id,
      level: header.level,
      count: header.count,
      tombstones: header.tombstones,
      bytes: reader.fileBytes,
      minLsn: header.minLsn,
      maxLsn: header.maxLsn,
      ...headOf(header),
    };
    return { ref, reader };
  }

  /** Ends a slab's time in flight: a manifest lists it now, or none ever will (GC may take it). */
  release(slab: WrittenSlab | undefined): void {
    if (slab) this.#inflight.delete(slab.ref.id);
  }
}

/** The head size a manifest records for a version 2 slab (see SlabRef.head). */
function headOf(header: SlabHeader): { head?: number } {
  return header.sections.head !== undefined ? { head: header.sections.head + 4 } : {};
}
