export { FaissIndex } from './faiss-index.ts';
export type { FaissIndexKind, FaissMetric, SearchParams, SearchResult } from './faiss-index.ts';
export { blasPinned, faissVersion, getThreads, setThreads } from './threads.ts';
export { allowRow, bitmapOf, emptyBitmap, isAllowed } from './bitmap.ts';
export { scanRows } from './scan.ts';
export type { ScanMetric, ScanOptions, ScanResult } from './scan.ts';
