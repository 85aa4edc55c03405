import { float32ToShortest } from './float.ts';
import type { SparseVector } from './results.ts';

/**
 * A sparse vector as the engine holds it: indices ascending, values float32. Sorting once at
 * ingest makes every dot product a linear merge.
 */
export interface SparseF32 {
  indices: Uint32Array;
  values: Float32Array;
}

/** Converts validated wire input (unique indices, any order) to the engine's form. */
export function toSparseF32(input: { indices: number[]; values: number[] }): SparseF32 {
  const order = input.indices.map((_, i) => i).sort((a, b) => input.indices[a]! - input.indices[b]!);
  return {
    indices: Uint32Array.from(order, (i) => input.indices[i]!),
    values: Float32Array.from(order, (i) => input.values[i]!),
  };
}

export function sparseToWire(sparse: SparseF32): SparseVector {
  return { indices: Array.from(sparse.indices), values: Array.from(sparse.values, float32ToShortest) };
}

/** Dot product of two sparse vectors (both sorted by index). */
export function sparseDot(a: SparseF32, b: SparseF32): number {
  return sparseMatch(a, b) ?? 0;
}

/**
 * The dot product of two sparse vectors (both sorted by index) that share a dimension; undefined
 * when they share none (a sparse index's query does not match such a record).
 */
export function sparseMatch(a: SparseF32, b: SparseF32): number | undefined {
  let i = 0;
  let j = 0;
  let sum = 0;
  let shared = false;
  const ai = a.indices;
  const bi = b.indices;
  while (i < ai.length && j < bi.length) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x === y) {
      sum += a.values[i++]! * b.values[j++]!;
      shared = true;
    } else if (x < y) i++;
    else j++;
  }
  return shared ? sum : undefined;
}
