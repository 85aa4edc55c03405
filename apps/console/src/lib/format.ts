/** Display helpers shared by pages. */

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 12345.678 → "12,345.68" (at most two decimals). */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** The default namespace is stored as "" and shown as `__default__` (the API's own alias). */
export function namespaceLabel(name: string): string {
  return name === '' ? '__default__' : name;
}

/** A vector's first `n` values for a preview: "[0.1, 0.2, 0.3, …] (768 dims)". */
export function previewVector(values: readonly number[], n = 8): string {
  const head = values.slice(0, n).map((v) => String(Number(v.toPrecision(4))));
  return `[${head.join(', ')}${values.length > n ? ', …' : ''}] (${values.length} dims)`;
}

/** How far indexing trails writing: LSNs logged but not yet in a slab (they are in the memtable). */
export function freshnessLag(writtenLsn: number, flushedLsn: number): number {
  return Math.max(0, writtenLsn - flushedLsn);
}

/** 850 → "850 ms", 3000 → "3.0 s", 125000 → "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A sparse vector's first `n` entries: "{10: 0.5, 45: 1.2, …} (12 non-zero)". */
export function previewSparse(sparse: { indices: readonly number[]; values: readonly number[] }, n = 6): string {
  const head = sparse.indices.slice(0, n).map((index, i) => `${index}: ${Number(sparse.values[i]!.toPrecision(4))}`);
  return `{${head.join(', ')}${sparse.indices.length > n ? ', …' : ''}} (${sparse.indices.length} non-zero)`;
}

/** An index's vector shape in a few words: "384 dimensions · cosine", "sparse · dotproduct". */
export function describeShape(index: { vectorType?: 'dense' | 'sparse' | undefined; dimension: number; metric: string }): string {
  return index.vectorType === 'sparse' ? `sparse · ${index.metric}` : `${index.dimension} dimensions · ${index.metric}`;
}
