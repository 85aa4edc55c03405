import type { SlabRef } from '@conifer/manifest';
import type { Clock, RandomSource } from '@conifer/core';
import { SlabReader, type SlabHeader } from '@conifer/slab';
import type { ObjectStore } from '@conifer/storage';
import { newSlabId, slabKey } from './layout.ts';

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

  constructor(options: { store: ObjectStore; prefix: string; clock: Clock; random: RandomSource }) {
    this.#store = options.store;
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
    };
    // Built by this process a moment ago: no checksum pass needed.
    return { ref, reader: await SlabReader.load(id, bytes, { verify: false }) };
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
    const obj = await this.#store.get(slabKey(this.#prefix, id));
    if (!obj) throw new Error(`slab ${id} built by an indexer is missing`);
    const reader = await SlabReader.load(id, obj.data);
    const { header } = reader;
    const ref: SlabRef = {
      id,
      level: header.level,
      count: header.count,
      tombstones: header.tombstones,
      bytes: obj.data.length,
      minLsn: header.minLsn,
      maxLsn: header.maxLsn,
    };
    return { ref, reader };
  }

  /** Ends a slab's time in flight: a manifest lists it now, or none ever will (GC may take it). */
  release(slab: WrittenSlab | undefined): void {
    if (slab) this.#inflight.delete(slab.ref.id);
  }
}
