import { binding, type IvfLayout, type NativeIndex } from './native.ts';

/**
 * Distance metric of an index.
 * - `'l2'`: squared Euclidean distance (faiss METRIC_L2; exactly what Conifer reports for
 *   `euclidean`); smaller is closer.
 * - `'ip'`: inner product (METRIC_INNER_PRODUCT); larger is closer. Cosine similarity is inner
 *   product over normalized vectors: Conifer normalizes vectors and queries and uses `'ip'`.
 */
export type FaissMetric = 'l2' | 'ip';

/** Top-level index family, which decides which search parameters apply. */
export type FaissIndexKind = 'flat' | 'ivf' | 'hnsw' | 'other';

/** Per-call search parameters. */
export interface SearchParams {
  /** IVF only: inverted lists probed per query (default: the index's, 1 for a new index). */
  nprobe?: number;
  /** HNSW only: size of the search queue (default: the index's, 16 for a new index). */
  efSearch?: number;
  /**
   * Filter bitmap: row i may be returned iff bit `i % 8` (least significant first) of byte
   * `i >> 3` is set; rows past the end are excluded. See {@link bitmapOf}.
   *
   * Supported by Flat, SQ, IVF (Flat/SQ/PQ) and HNSW indexes; faiss 1.7.3 rejects it for PQ,
   * fast-scan, LSH, NSG and Refine indexes. IVF and HNSW return only the allowed rows they
   * reach: with a very selective filter they return fewer than k (label -1), so search the few
   * allowed rows exactly instead (e.g. `scanRows` with this bitmap).
   */
  allowed?: Uint8Array;
}

/**
 * Options of {@link FaissIndex.train} for IVF indexes: the k-means clustering that trains the
 * coarse quantizer (faiss `IndexIVF::cp`), for this call only. Each is an integer; unset ones keep
 * faiss's defaults. Giving any of them to a non-IVF index is a RangeError.
 */
export interface TrainOptions {
  /**
   * faiss prints `WARNING clustering N points to K centroids: please provide at least …` to
   * stderr when the training set has fewer than K × this many points (default 39). Lower it when
   * training on a deliberate sample (e.g. 16 points per list). In [1, 2^20].
   */
  minPointsPerCentroid?: number;
  /**
   * faiss trains on a random subsample of K × this many points when given more (default 256).
   * In [1, 2^20]; at least minPointsPerCentroid when both are given.
   */
  maxPointsPerCentroid?: number;
  /**
   * k-means iterations: faiss's IVF default is 10 (`IndexIVF` lowers `ClusteringParameters`' 25);
   * fewer is faster, more gives slightly tighter lists. In [1, 1000].
   */
  niter?: number;
}

/**
 * Result of a search of `nq` queries for `k` neighbours, row-major: the neighbours of query q
 * are at `[q * k, (q + 1) * k)`, best first. A missing neighbour (fewer than k rows, or
 * filtered out) has label -1 and distance +Infinity (`'l2'`) or -Infinity (`'ip'`).
 */
export interface SearchResult {
  distances: Float32Array;
  /** Row numbers: the i-th vector ever added to the index has label i. */
  labels: Int32Array;
}

/**
 * A faiss index in native memory.
 *
 * Ids are sequential: the vectors of every add() get the next row numbers (0, 1, 2, ...), which
 * is what a slab needs; there is no add_with_ids. Labels come back as an Int32Array (an index
 * holds at most 2^31-1 vectors).
 *
 * train(), add() and search() run on the libuv thread pool and return promises; inputs are
 * copied once into native memory when the call is made, so the caller may reuse its arrays at
 * once. Concurrent searches run in parallel; train() and add() wait for running searches and
 * run alone. Every native failure becomes a rejected promise or a thrown Error (`code`
 * `ERR_FAISS`, `ERR_FAISS_DISPOSED` or `ERR_FAISS_BUSY`); bad arguments throw TypeError or
 * RangeError before faiss is called.
 *
 * @example
 * const index = FaissIndex.create(128, 'IVF1024,Flat', 'l2');
 * await index.train(sample);
 * await index.add(vectors);
 * const { labels, distances } = await index.search(query, 10, { nprobe: 8 });
 * const bytes = index.serialize();
 * index.dispose();
 */
export class FaissIndex {
  readonly #native: NativeIndex;

  private constructor(native: NativeIndex) {
    this.#native = native;
  }

  /**
   * Creates an empty index with faiss's index_factory, e.g. `'Flat'`, `'IVF1024,Flat'`,
   * `'HNSW32'`, `'IVF256,SQ8'`. Throws (code ERR_FAISS) on a string faiss cannot parse.
   */
  static create(d: number, factory: string, metric: FaissMetric): FaissIndex {
    return new FaissIndex(binding().Index.create(d, factory, metric));
  }

  /**
   * Reads an index written by {@link serialize}. Throws (code ERR_FAISS) on bytes faiss cannot
   * parse. faiss checks structure, not integrity: verify a checksum of bytes read from storage
   * first (a flipped bit in a length field can still ask for a huge allocation).
   */
  static deserialize(bytes: Uint8Array): FaissIndex {
    return new FaissIndex(binding().Index.deserialize(bytes));
  }

  /**
   * {@link deserialize} off the event loop: faiss reads the index on the libuv thread pool, so a
   * large index (hundreds of MB, ~100 ms or more to read) does not hold the event loop. Accepts and
   * rejects exactly the bytes deserialize() does, with the same errors (code ERR_FAISS; TypeError
   * for a non-Uint8Array), as a rejected promise.
   *
   * `bytes` is read in place, not copied: the addon holds a reference to the array until the
   * promise settles (so it cannot be garbage collected), and **the caller must leave it alone
   * meanwhile**: do not write to it (nor let another thread write to its SharedArrayBuffer), and
   * do not transfer, detach or resize its ArrayBuffer. Writes give a corrupt index or a faiss
   * error; a detached, transferred or shrunk buffer can be freed while faiss reads it (a crash).
   * When the buffer is seen detached or resized at the end, the promise rejects (ERR_FAISS).
   * Once it settles, the index owns its own copy of everything and `bytes` may be reused.
   *
   * Occupies one libuv pool thread while it runs (UV_THREADPOOL_SIZE, default 4, shared with
   * searches and fs).
   *
   * @example
   * const bytes = await readFile(path); // a Buffer is a Uint8Array
   * const index = await FaissIndex.deserializeAsync(bytes);
   */
  static async deserializeAsync(bytes: Uint8Array): Promise<FaissIndex> {
    return new FaissIndex(await binding().Index.deserializeAsync(bytes));
  }

  /** Vector dimension. */
  get d(): number {
    return this.#native.d;
  }

  /** Number of vectors added. */
  get ntotal(): number {
    return this.#native.ntotal;
  }

  /** False until train() for indexes that need it (IVF, PQ, SQ); true for Flat and HNSW. */
  get isTrained(): boolean {
    return this.#native.isTrained;
  }

  get metric(): FaissMetric {
    return this.#native.metric;
  }

  get kind(): FaissIndexKind {
    return this.#native.kind;
  }

  /** True after dispose(). */
  get disposed(): boolean {
    return this.#native.disposed;
  }

  /**
   * Trains on `vectors` (n × d, row-major), off the event loop. For an IVF index, `options` set
   * the k-means clustering of the coarse quantizer for this call (see {@link TrainOptions});
   * training an already trained IVF index does not cluster again. Rejects with TypeError for a
   * non-number option, RangeError for a value out of range, minPointsPerCentroid above
   * maxPointsPerCentroid, or any option on a non-IVF index ("only IVF indexes take clustering
   * options"). faiss needs at least as many points as lists (else ERR_FAISS).
   *
   * @example
   * // 16 points per list, 10 iterations, no "WARNING clustering" on stderr.
   * await ivf.train(sampleOf(16 * nlist), { minPointsPerCentroid: 16, niter: 10 });
   */
  async train(vectors: Float32Array, options: TrainOptions = {}): Promise<void> {
    return this.#native.train(vectors, options.minPointsPerCentroid, options.maxPointsPerCentroid, options.niter);
  }

  /**
   * Appends `vectors` (n × d, row-major) with labels ntotal, ntotal + 1, ... To an IVF index,
   * `lists` (one entry per vector) may give a vector's list where the caller knows it — it was
   * assigned by this same quantizer before, say in a slab being merged — and -1 where it does not:
   * only those are assigned (the quantizer's search, most of what add() costs). TypeError for
   * `lists` on a non-IVF index; RangeError for a length other than n or an entry outside
   * [-1, nlist).
   */
  async add(vectors: Float32Array, options: { lists?: Int32Array | undefined } = {}): Promise<void> {
    return this.#native.add(vectors, options.lists);
  }

  /**
   * Finds the k nearest rows of each query (`queries` is nq × d, row-major), off the event loop,
   * single-threaded. k may exceed ntotal (missing neighbours have label -1).
   * `nprobe` on a non-IVF index or `efSearch` on a non-HNSW index throws a TypeError.
   */
  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<SearchResult> {
    return this.#native.search(queries, k, params.nprobe, params.efSearch, params.allowed);
  }

  /** The stored vector of row `id` (decoded: approximate for SQ/PQ indexes). */
  reconstruct(id: number): Float32Array {
    return this.#native.reconstruct(id);
  }

  /**
   * The index in faiss's own format (write_index). Synchronous; throws ERR_FAISS_BUSY while a
   * train() or add() is running.
   */
  serialize(): Uint8Array {
    return this.#native.serialize();
  }

  /**
   * An IVF index's centroids and which rows each inverted list holds: what a caller needs to run
   * the IVF search itself over vectors it keeps (probe the nearest centroids, scan those lists'
   * rows with {@link scanRows}). A copy (nlist × d floats plus one int per row); the index may be
   * disposed afterwards. TypeError for a non-IVF index; ERR_FAISS_BUSY during train()/add().
   */
  ivfLayout(): IvfLayout {
    return this.#native.ivfLayout();
  }

  /**
   * Removes every vector but keeps what training learned (an IVF index's coarse quantizer and
   * scalar-quantizer ranges): the next add() starts again at label 0 without training. This is
   * how a new index reuses another's quantizer: deserialize it, reset(), add(). Synchronous;
   * throws ERR_FAISS_BUSY while any search, train() or add() is running.
   */
  reset(): void {
    this.#native.reset();
  }

  /**
   * Frees the native index now (or, when searches are still running, as soon as they finish).
   * Later calls throw (code ERR_FAISS_DISPOSED). Indexes not disposed are freed when garbage
   * collected; their memory is reported to V8 as external memory.
   */
  dispose(): void {
    this.#native.dispose();
  }
}
