/**
 * mulberry32: a tiny seeded PRNG returning floats in [0, 1). Used wherever results must be
 * reproducible from a seed: ANN calibration samples, benchmark datasets, tests.
 */
export function mulberry32(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}
