export { FaissIndex } from './faiss-index.ts';
export type { FaissIndexKind, FaissMetric, SearchParams, SearchResult, TrainOptions } from './faiss-index.ts';
export { adviseHugePages, blasPinned, faissVersion, getThreads, runsOnCallingThread, setRunOnCallingThread, setThreads, trimNativeHeap } from './threads.ts';
export { allowRow, bitmapOf, emptyBitmap, isAllowed } from './bitmap.ts';
export { encodeSq8, scanCodes, scanKernel, scanRows, setScanKernel, Sq8Trainer, trainSq8 } from './scan.ts';
export type { ScanKernel, ScanMetric, ScanOptions, ScanResult, Sq8Params } from './scan.ts';
export type { IvfLayout } from './native.ts';
export { readNumberArray, type NumberArrayOutcome, type NumberArrayRead } from './json-numbers.ts';
