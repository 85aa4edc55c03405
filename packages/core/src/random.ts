/**
 * A source of random numbers in [0, 1), injected wherever the product draws one (slab ids, retry
 * jitter), so a seed replays a run: `Math.random` in production, `mulberry32(seed)` in tests and
 * simulations.
 */
export type RandomSource = () => number;

/** The runtime's random source. */
export const SYSTEM_RANDOM: RandomSource = Math.random;

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
