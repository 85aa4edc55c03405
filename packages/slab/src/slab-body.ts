import { checksum, SlabCorruptionError } from './format.ts';
import type { PageCache } from './page-cache.ts';
import { sharedArray } from './shared-bytes.ts';
import { yieldToEventLoop } from './yield.ts';

/** Reads bytes [start, end) of one slab file (absolute offsets); null when the object is gone. */
export type RangeSource = ((start: number, end: number) => Promise<Uint8Array | null>) & {
  /**
   * Where the store can read in place (local disk): the file's bytes from `start` into `buffers`,
   * each filled before the next; how many were read, or null when the object is gone.
   */
  into?: ((start: number, buffers: Uint8Array[]) => Promise<number | null>) | undefined;
  /** A bucket (ObjectStore.remote): every read costs a round trip, however it lands. */
  remote?: boolean | undefined;
};

/** Pages fetched by one ranged read at most (with the default page size, 8 MiB). */
const PAGES_PER_READ = 128;

/**
 * The body of a version 2 slab (its vectors and donor index), read by range from the object store
 * in checksummed pages (format.ts) through the process's page cache. A page whose checksum does not
 * match is read once more; if it still does not match, the read fails: corrupt bytes are never
 * served. Concurrent reads of one page share one fetch.
 */
export class SlabBody {
  readonly #id: string;
  readonly #source: RangeSource;
  readonly #cache: PageCache;
  readonly #cacheKey: string;
  readonly #start: number;
  readonly #end: number;
  readonly #pageSize: number;
  readonly #crcs: Uint32Array;
  readonly #inflight = new Map<number, Promise<Uint8Array>>();

  constructor(options: {
    id: string;
    source: RangeSource;
    cache: PageCache;
    cacheKey: string;
    start: number;
    end: number;
    pageSize: number;
    crcs: Uint32Array;
  }) {
    this.#id = options.id;
    this.#source = options.source;
    this.#cache = options.cache;
    this.#cacheKey = options.cacheKey;
    this.#start = options.start;
    this.#end = options.end;
    this.#pageSize = options.pageSize;
    this.#crcs = options.crcs;
    const pages = Math.ceil((this.#end - this.#start) / this.#pageSize);
    if (pages !== this.#crcs.length) throw new SlabCorruptionError(`slab ${this.#id}: ${this.#crcs.length} page checksums for ${pages} pages`);
  }

  /** Bytes [start, end) of the file, which must lie in the body, in a new buffer (pages are reused once evicted). */
  async read(start: number, end: number): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, end - start));
    await this.readInto(start, end, out);
    return out;
  }

  /** Bytes [start, end) of the file, inside the body, copied into `into` (end − start bytes) straight from the pages. */
  async readInto(start: number, end: number, into: Uint8Array): Promise<void> {
    if (start < this.#start || end > this.#end || start > end) throw new RangeError(`slab ${this.#id}: [${start}, ${end}) is outside its body`);
    if (into.length !== end - start) throw new RangeError(`slab ${this.#id}: a read of ${end - start} bytes into ${into.length}`);
    if (start === end) return;
    const first = this.#pageOf(start);
    const pages = await this.pages(first, this.#pageOf(end - 1));
    try {
      const firstStart = this.#start + first * this.#pageSize;
      pages.forEach((page, i) => {
        const pageStart = firstStart + i * this.#pageSize;
        const from = Math.max(start, pageStart);
        const to = Math.min(end, pageStart + page.length);
        into.set(page.subarray(from - pageStart, to - pageStart), from - start);
      });
    } finally {
      for (const page of pages) this.#cache.unpin(page);
    }
  }

  /**
   * The whole body in one new shared buffer, or in `into` (not through the page cache):
   * `PAGES_PER_READ` pages per read, `streams` reads at once, every page verified.
   */
  async readAll(streams = 8, stop?: () => boolean, into?: Uint8Array): Promise<Uint8Array> {
    return this.readRange(this.#start, this.#end, streams, stop, into);
  }

  /**
   * Bytes [start, end) of the file, inside the body, in one new shared buffer or in `into` (which
   * must hold exactly end − start bytes), not through the page cache: the pages holding them,
   * `PAGES_PER_READ` per read and `streams` reads at once, every page verified.
   */
  async readRange(start: number, end: number, streams = 8, stop?: () => boolean, into?: Uint8Array): Promise<Uint8Array> {
    if (start < this.#start || end > this.#end || start > end) throw new RangeError(`slab ${this.#id}: [${start}, ${end}) is outside its body`);
    if (into && into.length !== end - start) throw new RangeError(`slab ${this.#id}: a read of ${end - start} bytes into ${into.length}`);
    const out = into ?? (start === end ? new Uint8Array(0) : sharedArray(end - start));
    if (start === end) return out;
    const firstPage = this.#pageOf(start);
    const lastPage = this.#pageOf(end - 1);
    const runs: [number, number][] = [];
    for (let from = firstPage; from <= lastPage; from += PAGES_PER_READ) runs.push([from, Math.min(lastPage + 1, from + PAGES_PER_READ)]);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        if (stop?.()) throw new Error(`slab ${this.#id}: read stopped`);
        const [from, to] = runs[next++]!;
        const runStart = this.#start + from * this.#pageSize;
        const runEnd = Math.min(this.#end, this.#start + to * this.#pageSize);
        if (this.#source.into && runStart >= start && runEnd <= end) {
          // Whole pages of the range: read in place, then checked where they landed.
          await this.#readInPlace(from, runStart, out.subarray(runStart - start, runEnd - start));
          await yieldToEventLoop();
          continue;
        }
        const bytes = await this.#fetch(runStart, runEnd);
        for (let p = from; p < to; p++) {
          const at = (p - from) * this.#pageSize;
          const page = await this.#checked(p, bytes.subarray(at, Math.min(bytes.length, at + this.#pageSize)), runStart + at);
          // The part of the page inside [start, end).
          const pageStart = runStart + at;
          const lo = Math.max(start, pageStart);
          const hi = Math.min(end, pageStart + page.length);
          out.set(page.subarray(lo - pageStart, hi - pageStart), lo - start);
        }
        await yieldToEventLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(streams, runs.length) }, worker));
    return out;
  }

  /** Whether a read costs about a local disk's, not a bucket's round trip: few streams are then enough for a whole body. */
  get nearby(): boolean {
    return this.#source.remote !== true;
  }

  /** Pages from `from` (at file offset `runStart`) read straight into `target`, each checked (re-read once if damaged). */
  async #readInPlace(from: number, runStart: number, target: Uint8Array): Promise<void> {
    await this.#fetchInto(runStart, [target], target.length);
    for (let at = 0, p = from; at < target.length; at += this.#pageSize, p++) {
      const page = target.subarray(at, Math.min(target.length, at + this.#pageSize));
      const good = await this.#checked(p, page, runStart + at);
      if (good !== page) page.set(good);
    }
  }

  /**
   * Page `p` (its bytes as read, from file offset `fileStart`) if its checksum matches; else the page
   * read once more alone — a transfer may have been damaged on its way — and if that copy fails too,
   * a SlabCorruptionError: a damaged page is never served.
   */
  async #checked(p: number, page: Uint8Array, fileStart: number): Promise<Uint8Array> {
    if (checksum(page) === this.#crcs[p]) return page;
    const again = await this.#fetch(fileStart, fileStart + page.length, true);
    if (checksum(again) !== this.#crcs[p]) throw new SlabCorruptionError(`slab ${this.#id}: body page ${p} fails its checksum`);
    return again;
  }

  /** The file's last 4 bytes (its whole-file checksum), which no page covers. */
  async readTrailer(): Promise<Uint8Array> {
    return this.#fetch(this.#end, this.#end + 4);
  }

  /**
   * Pages first..last (inclusive), verified; missing ones fetched in runs of consecutive pages.
   * Each page comes pinned (the cache does not reuse it): the caller copies out of it and unpins it.
   */
  async pages(first: number, last: number): Promise<Uint8Array[]> {
    const found: (Uint8Array | Promise<Uint8Array>)[] = [];
    // A fetched page is pinned as soon as it is read — in the turn its read completes, while the
    // fetch's own pin (#readRun) still holds it — not once every page of this call is in.
    const pinWhenRead = (pending: Promise<Uint8Array>) =>
      pending.then((page) => {
        this.#cache.pin(page);
        return page;
      });
    let runStart = -1;
    const flush = (upTo: number): void => {
      if (runStart < 0) return;
      for (let from = runStart; from < upTo; from += PAGES_PER_READ) this.#fetchRun(from, Math.min(upTo, from + PAGES_PER_READ));
      for (let p = runStart; p < upTo; p++) found[p - first] = pinWhenRead(this.#inflight.get(p)!);
      runStart = -1;
    };
    for (let p = first; p <= last; p++) {
      const cached = this.#cache.get(this.#key(p));
      // Pinned now: it could be evicted and reused while this call waits for the pages it fetches.
      if (cached) this.#cache.pin(cached);
      const pending = cached ? undefined : this.#inflight.get(p);
      if (cached || pending) {
        flush(p);
        found[p - first] = cached ?? pinWhenRead(pending!);
      } else if (runStart < 0) {
        runStart = p;
      }
    }
    flush(last + 1);
    const settled = await Promise.allSettled(found);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      for (const r of settled) if (r.status === 'fulfilled') this.#cache.unpin(r.value);
      throw failed.reason;
    }
    return settled.map((r) => (r as PromiseFulfilledResult<Uint8Array>).value);
  }

  #pageOf(offset: number): number {
    return Math.floor((offset - this.#start) / this.#pageSize);
  }

  #key(page: number): string {
    return `${this.#cacheKey}#${page}`;
  }

  /** Starts the fetch of pages [from, to), registering one promise per page. */
  #fetchRun(from: number, to: number): void {
    const run = this.#readRun(from, to);
    for (let p = from; p < to; p++) {
      const page = run.then((pages) => pages[p - from]!);
      page.catch(() => undefined).finally(() => this.#inflight.delete(p));
      this.#inflight.set(p, page);
    }
  }

  async #readRun(from: number, to: number): Promise<Uint8Array[]> {
    const start = this.#start + from * this.#pageSize;
    const end = Math.min(this.#end, this.#start + to * this.#pageSize);
    const pages: Uint8Array[] = [];
    try {
      if (this.#source.into) {
        // Straight into page buffers (evicted pages reused): no buffer per read to collect.
        const buffers = Array.from({ length: to - from }, (_, i) =>
          this.#cache.take(Math.min(end, start + (i + 1) * this.#pageSize) - (start + i * this.#pageSize)),
        );
        await this.#fetchInto(start, buffers, end - start);
        await this.#keepPages(from, start, buffers, pages, true);
      } else {
        const bytes = await this.#fetch(start, end);
        const views = Array.from({ length: to - from }, (_, i) => bytes.subarray(i * this.#pageSize, Math.min(bytes.length, (i + 1) * this.#pageSize)));
        await this.#keepPages(from, start, views, pages, false);
      }
    } catch (err) {
      for (const page of pages) this.#cache.unpin(page);
      throw err;
    }
    setImmediate(() => {
      for (const page of pages) this.#cache.unpin(page);
    });
    return pages;
  }

  /**
   * Checks each page of a run just read (`read`: views of it, or with `owned` the page buffers
   * themselves) and puts it in the cache, pinned, into `pages`.
   */
  async #keepPages(from: number, start: number, read: Uint8Array[], pages: Uint8Array[], owned: boolean): Promise<void> {
    for (let i = 0; i < read.length; i++) {
      const p = from + i;
      const page = read[i]!;
      const good = await this.#checked(p, page, start + i * this.#pageSize);
      // Own memory per page, so evicting one page frees it (a view would pin the whole run); a page
      // the cache evicted earlier when it has one, so reads by range make little garbage.
      const own = owned ? page : this.#cache.take(page.length);
      if (good !== own) own.set(good);
      // Pinned until the reads waiting for it have had it: they pin it themselves in the turn the
      // run resolves, before #readRun's unpin (scheduled only then: a refetch here awaits).
      this.#cache.pin(own);
      this.#cache.set(this.#key(p), own);
      pages.push(own);
    }
  }

  /** `length` bytes from `start` read in place into `buffers` (the source must read in place). */
  async #fetchInto(start: number, buffers: Uint8Array[], length: number): Promise<void> {
    const read = await this.#source.into!(start, buffers);
    if (read === null) throw new SlabCorruptionError(`slab ${this.#id}: the object is gone`);
    if (read !== length) throw new SlabCorruptionError(`slab ${this.#id}: read ${read} bytes of [${start}, ${start + length})`);
    this.#cache.countRead(read);
  }

  async #fetch(start: number, end: number, refetch = false): Promise<Uint8Array> {
    const bytes = await this.#source(start, end);
    if (!bytes) throw new SlabCorruptionError(`slab ${this.#id}: the object is gone`);
    if (bytes.length !== end - start) throw new SlabCorruptionError(`slab ${this.#id}: read ${bytes.length} bytes of [${start}, ${end})`);
    this.#cache.countRead(bytes.length, refetch);
    return bytes;
  }
}
