export { FaissIndex } from './faiss-index.ts';
export type { FaissIndexKind, FaissMetric, SearchParams, SearchResult, TrainOptions } from './faiss-index.ts';
export { adviseHugePages, blasPinned, faissVersion, getThreads, runsOnCallingThread, setRunOnCallingThread, setThreads, trimNativeHeap } from './threads.ts';
export { allowRow, bitmapOf, emptyBitmap, isAllowed } from './bitmap.ts';
export { scanKernel, scanRows, setScanKernel } from './scan.ts';
export type { ScanKernel, ScanMetric, ScanOptions, ScanResult } from './scan.ts';
export type { IvfLayout } from './native.ts';
export { readNumberArray, type NumberArrayOutcome, type NumberArrayRead } from './json-numbers.ts';
