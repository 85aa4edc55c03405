/**
 * Loads the compiled addon, build/Release/conifer_faiss.node (built by `npx node-gyp rebuild`
 * in packages/faiss, which `ensure_native` in tools/setup/env.sh runs on a fresh machine).
 * Loaded on first use, so importing the package for its types never needs the binary.
 */
import { createRequire } from 'node:module';

/** Raw search result: row-major `nq × k` arrays. */
export interface NativeSearchResult {
  distances: Float32Array;
  labels: Int32Array;
}

/** An IVF index's coarse quantizer and list membership (see FaissIndex.ivfLayout). */
export interface IvfLayout {
  /** nlist × d, row-major. */
  centroids: Float32Array;
  /** Rows of list l are rows[offsets[l] .. offsets[l + 1]). */
  offsets: Int32Array;
  /** Every row (label) of the index, grouped by list. */
  rows: Int32Array;
}

/** The addon's `Index` instance (see native/index_wrap.cc). */
export interface NativeIndex {
  readonly d: number;
  readonly ntotal: number;
  readonly isTrained: boolean;
  readonly metric: 'l2' | 'ip';
  readonly kind: 'flat' | 'ivf' | 'hnsw' | 'other';
  readonly disposed: boolean;
  train(vectors: Float32Array, minPointsPerCentroid: number | undefined, maxPointsPerCentroid: number | undefined, niter: number | undefined): Promise<void>;
  add(vectors: Float32Array, lists?: Int32Array): Promise<void>;
  search(
    queries: Float32Array,
    k: number,
    nprobe: number | undefined,
    efSearch: number | undefined,
    allowed: Uint8Array | undefined,
  ): Promise<NativeSearchResult>;
  reconstruct(id: number): Float32Array;
  serialize(): Uint8Array;
  reset(): void;
  ivfLayout(): IvfLayout;
  dispose(): void;
}

export interface NativeBinding {
  Index: {
    create(d: number, factory: string, metric: 'l2' | 'ip'): NativeIndex;
    deserialize(bytes: Uint8Array): NativeIndex;
    /** read_index on the libuv pool, reading `bytes` in place (see faiss-index.ts). */
    deserializeAsync(bytes: Uint8Array): Promise<NativeIndex>;
  };
  /** Exact top-k over rows of `vectors`, read in place (native/scan.cc); see scan.ts. */
  scanRows(
    vectors: Float32Array,
    dimension: number,
    query: Float32Array,
    k: number,
    metric: 'l2' | 'ip' | 'cosine',
    allowed: Uint8Array | undefined,
    rows: Int32Array | undefined,
    positions: Uint32Array | undefined,
  ): NativeSearchResult;
  /** Approximate top-k over SQ8 codes, read in place (native/scan.cc); see scan.ts. */
  scanCodes(
    codes: Uint8Array,
    dimension: number,
    query: Float32Array,
    k: number,
    metric: 'l2' | 'ip' | 'cosine',
    min: Float32Array,
    step: Float32Array,
    rows: Int32Array | undefined,
  ): NativeSearchResult;
  /** A JSON array of numbers into a Float32Array (native/json_numbers.h); see json-numbers.ts. */
  readNumberArray(bytes: Uint8Array, start: number, out: Float32Array, outStart: number, result: Float64Array): 0 | 1 | 2;
  /** Forces scanRows' distance kernels (native/kernels.h); returns the kernel now in use. */
  setScanKernel(kernel: 'auto' | 'sse' | 'avx2'): 'sse' | 'avx2';
  scanKernel(): 'sse' | 'avx2';
  setThreads(n: number): void;
  /** madvise(MADV_HUGEPAGE) over the 2 MiB-aligned interior of `bytes` (native/addon.cc). */
  adviseHugePages(bytes: ArrayBufferView): boolean;
  getThreads(): number;
  setRunOnCallingThread(enabled: boolean): void;
  runOnCallingThread(): boolean;
  trimNativeHeap(): boolean;
  /** True when OpenBLAS was found at load time and pinned to one thread. */
  blasPinned: boolean;
  /** Version of the faiss library the addon was compiled against, e.g. "1.7.3". */
  faissVersion: string;
}

const ADDON_PATH = '../build/Release/conifer_faiss.node';
let loaded: NativeBinding | undefined;

/** The addon; throws an Error explaining how to build it when it is missing. */
export function binding(): NativeBinding {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    try {
      loaded = require(ADDON_PATH) as NativeBinding;
    } catch (cause) {
      throw new Error(
        'conifer: the faiss addon is not built (packages/faiss/build/Release/conifer_faiss.node). ' +
          'Run `source tools/setup/env.sh && ensure_native`, or `npx node-gyp rebuild` in packages/faiss ' +
          'after `apt-get install libfaiss-dev libopenblas-dev`.',
        { cause },
      );
    }
  }
  return loaded;
}
