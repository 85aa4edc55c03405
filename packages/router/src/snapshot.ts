import type { Filter } from '@conifer/core';
import type { MemEntry, Memtable } from '@conifer/memtable';
import { Bitset, compareStoredIds, yieldToEventLoop, type IdList, type SlabReader } from '@conifer/slab';

/**
 * What one read sees: the namespace's memtables and slabs at one instant, newest first. Layers
 * never change under a snapshot except the active memtable, which only grows by LSN; reads run
 * synchronously over a snapshot, so they see a consistent LSN prefix.
 */
export interface SlabLayer {
  reader: SlabReader;
  /**
   * Rows whose id also appears in a newer slab (1 = stale). Computed once per manifest, since
   * slabs are immutable. Shadowing by memtables is checked per read.
   */
  shadowed: Uint8Array;
  /** Rows that are neither shadowed nor tombstones: what an ANN search may return. */
  live: Bitset;
  /** live.count(), cached. */
  liveCount: number;
  /**
   * Newer slabs whose shadowing of this one is not in `shadowed` and `live` yet: a namespace that
   * has just opened answers its first reads while the pairwise comparison of its slabs' ids runs
   * in the background (provisionalShadows). A read checks each row it would return against them
   * (`shadowedLater`); a count of live rows waits for the full layers.
   */
  unmarked?: readonly SlabReader[] | undefined;
}

export interface Snapshot {
  /** Active memtable first, then frozen ones being flushed, newest first. */
  memtables: readonly Memtable[];
  /** Newest first. */
  slabs: readonly SlabLayer[];
}

/** Every version with a lower LSN than this is hidden by a deleteAll. */
export function clearedLsn(snapshot: Snapshot): number {
  let max = 0;
  for (const m of snapshot.memtables) max = Math.max(max, m.clearedAtLsn);
  return max;
}

/**
 * Whether the memtables hold any version of an id (a tombstone too): such an id shadows every
 * slab's version. Decided as of the LSN the memtables held when this is called — before a search
 * scans them — since writes keep landing in the active memtable while the search awaits slabs.
 */
export function shadowedByMemtables(snapshot: Snapshot): (id: string) => boolean {
  const scanLsn = Math.max(0, ...snapshot.memtables.map((m) => m.maxLsn));
  const memtables = snapshot.memtables.filter((m) => !m.isEmpty);
  return (id) => memtables.some((m) => m.getAsOf(id, scanLsn) !== undefined);
}

/** A search's filter when it filters anything: `{}` and no filter both mean every record. */
export function effectiveFilter(filter: Filter | undefined): Filter | undefined {
  return filter && Object.keys(filter).length > 0 ? filter : undefined;
}

/**
 * Walks the memtables newest first and calls `live` once per id with its newest version, when
 * that version is a live record (not a tombstone, not hidden by a deleteAll). Returns every id the
 * memtables hold, live or not: those ids shadow whatever older version the slabs have.
 */
export function scanMemtables(snapshot: Snapshot, live: (id: string, entry: MemEntry & { values: Float32Array }) => void): Set<string> {
  const cleared = clearedLsn(snapshot);
  const seen = new Set<string>();
  for (const memtable of snapshot.memtables) {
    for (const [id, entry] of memtable.entries()) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (entry.values !== null && entry.lsn >= cleared) live(id, entry as MemEntry & { values: Float32Array });
    }
  }
  return seen;
}

/**
 * Marks, for each slab (given newest first), the rows whose id appears in a newer slab.
 *
 * Incremental, because a manifest changes on every flush and compaction while a namespace ingests:
 * recomputing from every id of every slab took seconds of event-loop time per million ingested
 * rows. Slabs are immutable and sorted by id, so which rows of slab O a newer slab N shadows is a
 * fact about the pair, found by a merge of the two sorted id lists and cached for as long as both
 * slabs live. A slab whose newer slabs are the same as in `previous` keeps its layer as it was
 * (a provisional one, as marked: markLayer).
 */
export async function computeShadows(readers: readonly SlabReader[], previous: readonly SlabLayer[] = []): Promise<SlabLayer[]> {
  const before = new Map<SlabReader, { layer: SlabLayer; newer: readonly SlabReader[] }>();
  for (const [at, layer] of previous.entries()) before.set(layer.reader, { layer, newer: previous.slice(0, at).map((l) => l.reader) });
  const layers: SlabLayer[] = [];
  for (const [at, reader] of readers.entries()) {
    const newer = readers.slice(0, at);
    const kept = before.get(reader);
    if (kept && sameReaders(kept.newer, newer)) {
      // A provisional layer is marked once (markLayer), shared with the reads that had it marked.
      layers.push(kept.layer.unmarked ? await markLayer(kept.layer) : kept.layer);
      continue;
    }
    layers.push(await markedLayer(reader, newer));
  }
  return layers;
}

/** `reader`'s layer with the rows every slab of `newer` shadows marked. */
async function markedLayer(reader: SlabReader, newer: readonly SlabReader[]): Promise<SlabLayer> {
  const shadowed = new Uint8Array(reader.count);
  const live = (await liveRowsOf(reader)).clone();
  let liveCount = live.count();
  for (const over of newer) {
    const rows = await shadowedBy(over, reader);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (shadowed[row] !== 0) continue;
      shadowed[row] = 1;
      if (live.has(row)) {
        live.clear(row);
        liveCount--;
      }
    }
  }
  return { reader, shadowed, live, liveCount };
}

/** Provisional layer → its marked layer, computed at most once (a promise, shared by queries). */
const marking = new WeakMap<SlabLayer, Promise<SlabLayer>>();
/** Provisional layer → its marked layer, once computed: what later reads of the snapshot use. */
const marked = new WeakMap<SlabLayer, SlabLayer>();

/**
 * A provisional layer with its newer slabs' shadowing marked, for a read that cannot do without:
 * a slab that newer slabs rewrite wholly or mostly refuses nearly every row it finds as shadowed,
 * and its probe would scan every list looking for live ones. Computed once per layer; the pair
 * comparisons are the ones the namespace's background computation makes (shared, not repeated).
 */
export function markLayer(layer: SlabLayer): Promise<SlabLayer> {
  if (!layer.unmarked) return Promise.resolve(layer);
  let promise = marking.get(layer);
  if (!promise) {
    promise = markedLayer(layer.reader, layer.unmarked).then((done) => {
      marked.set(layer, done);
      return done;
    });
    marking.set(layer, promise);
    // A failed comparison is not kept: the next read tries again.
    promise.catch(() => marking.delete(layer));
  }
  return promise;
}

/** The layer as marked, if a read already had it marked (markLayer); else the layer itself. */
export function markedIfDone(layer: SlabLayer): SlabLayer {
  return marked.get(layer) ?? layer;
}

/**
 * Layers for slabs (newest first) before any pair of them is compared: each marks only its own
 * tombstones and names its newer slabs as `unmarked`. What a namespace's first reads use while
 * computeShadows runs: comparing every pair of a large namespace's id lists takes far longer than
 * checking the few rows a query returns against them.
 */
export async function provisionalShadows(readers: readonly SlabReader[]): Promise<SlabLayer[]> {
  return Promise.all(
    readers.map(async (reader, at) => {
      // Shared with computeShadows' cache: never modified here (computeShadows clones it).
      const live = await liveRowsOf(reader);
      const layer: SlabLayer = { reader, shadowed: new Uint8Array(reader.count), live, liveCount: live.count() };
      if (at > 0) layer.unmarked = readers.slice(0, at);
      return layer;
    }),
  );
}

/**
 * Whether a newer slab not yet marked in `layer` holds the id of its row `row` (always false once
 * the layer is complete). Compares the ids' stored UTF-8 bytes by binary search in each newer slab.
 */
export function shadowedLater(layer: SlabLayer, row: number): boolean {
  const { unmarked } = layer;
  if (!unmarked || unmarked.length === 0) return false;
  const own = layer.reader.idBytes();
  const start = own.offsets[row]!;
  const id = own.bytes.subarray(start, own.offsets[row + 1]!);
  return unmarked.some((newer) => holdsId(newer, id));
}

function holdsId(reader: SlabReader, id: Uint8Array): boolean {
  const { bytes, offsets } = reader.idBytes();
  let lo = 0;
  let hi = reader.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareStoredIds(bytes, offsets[mid]!, offsets[mid + 1]!, id, 0, id.length);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

function sameReaders(a: readonly SlabReader[], b: readonly SlabReader[]): boolean {
  return a.length === b.length && a.every((reader, i) => reader === b[i]);
}

/** Rows of each slab that are not tombstones, computed once per slab. */
const liveRowsCache = new WeakMap<SlabReader, Bitset>();

async function liveRowsOf(reader: SlabReader): Promise<Bitset> {
  let live = liveRowsCache.get(reader);
  if (!live && reader.header.tombstones === 0) {
    live = Bitset.full(reader.count);
    liveRowsCache.set(reader, live);
  }
  if (!live) {
    live = new Bitset(reader.count);
    for (let row = 0; row < reader.count; row++) {
      if (!reader.isTombstone(row)) live.set(row);
      if (row % LIVE_SLICE === LIVE_SLICE - 1) await yieldToEventLoop();
    }
    liveRowsCache.set(reader, live);
  }
  return live;
}

const LIVE_SLICE = 65_536;

/**
 * older → newer → rows of older whose id newer also holds. Dropped with either slab. A promise, so
 * that two computations at once (the background one of a namespace that just opened, and a flush's)
 * compare a pair once.
 */
const pairCache = new WeakMap<SlabReader, WeakMap<SlabReader, Promise<Uint32Array>>>();

function shadowedBy(newer: SlabReader, older: SlabReader): Promise<Uint32Array> {
  let byNewer = pairCache.get(older);
  if (!byNewer) pairCache.set(older, (byNewer = new WeakMap()));
  let rows = byNewer.get(newer);
  if (!rows) {
    rows = commonIdRows(newer, older);
    byNewer.set(newer, rows);
    // A failed comparison is not kept: the next computation tries again.
    rows.catch(() => byNewer.delete(newer));
  }
  return rows;
}

/**
 * commonRows over two slabs' id sections as stored, comparing UTF-8 bytes in place: a slab opened
 * by range decodes ids only on use, and decoding a million of them to compare would cost most of a
 * cold open. Ids are ASCII (the API requires it), so byte order is the ids' sort order.
 */
export async function commonIdRows(probe: SlabReader, target: SlabReader): Promise<Uint32Array> {
  const probeIsShort = probe.count <= target.count;
  const short = (probeIsShort ? probe : target).idBytes();
  const long = (probeIsShort ? target : probe).idBytes();
  const shortCount = short.offsets.length - 1;
  const longCount = long.offsets.length - 1;
  const lb = long.bytes;
  const lo = long.offsets;
  const sb = short.bytes;
  const so = short.offsets;
  /** long's id `j` against short's id `i`: negative when it sorts first. */
  const compare = (j: number, i: number): number => compareStoredIds(lb, lo[j]!, lo[j + 1]!, sb, so[i]!, so[i + 1]!);
  return gallopCommon(shortCount, longCount, compare, probeIsShort);
}

/**
 * Positions in `target` of the ids that `probe` also holds; both are sorted and unique. Walks the
 * shorter list and gallops through the longer one, so a small flush against a large slab costs
 * about small × log(large / small) comparisons. Yields to the event loop every slice.
 */
export async function commonRows(probe: IdList, target: IdList): Promise<Uint32Array> {
  const probeIsShort = probe.length <= target.length;
  const short = probeIsShort ? probe : target;
  const long = probeIsShort ? target : probe;
  const compare = (j: number, i: number): number => {
    const a = long.at(j)!;
    const b = short.at(i)!;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return gallopCommon(short.length, long.length, compare, probeIsShort);
}

/**
 * The walk both commonRows and commonIdRows make: through the shorter list, galloping through the
 * longer one (`compare(j, i)`: long's `j` against short's `i`, negative when it sorts first).
 * Returns target positions: long's when the probe is the short list, short's otherwise.
 */
async function gallopCommon(shortCount: number, longCount: number, compare: (j: number, i: number) => number, probeIsShort: boolean): Promise<Uint32Array> {
  const found: number[] = [];
  let lo = 0;
  let sliceStart = performance.now();
  for (let i = 0; i < shortCount && lo < longCount; i++) {
    // Gallop: find a window [lo, hi) of `long` whose end is past id i, then binary search in it.
    let step = 1;
    let hi = lo;
    while (hi < longCount && compare(hi, i) < 0) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    hi = Math.min(hi, longCount);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(mid, i) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < longCount && compare(lo, i) === 0) found.push(probeIsShort ? lo : i);
    if (i % SHADOW_CHECK === SHADOW_CHECK - 1 && performance.now() - sliceStart >= SHADOW_SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return Uint32Array.from(found);
}

/**
 * The walk yields once a slice has run this long: a query that arrives meanwhile waits for the
 * slice, and slices shorter than a query's own run keep that wait out of its latency's tail. A
 * flush's ids against a large slab take many slices (each comparison can miss the cache), so
 * a fixed count of ids made slices of a millisecond and more on a busy node.
 */
const SHADOW_SLICE_MS = 0.25;
/** Ids walked between looks at the clock. */
const SHADOW_CHECK = 256;
