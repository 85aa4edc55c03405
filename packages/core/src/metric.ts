/**
 * Similarity metrics and their scores, exactly as Pinecone reports them:
 * - cosine: cos(a, b) in [-1, 1], higher is more similar;
 * - dotproduct: a·b, higher is more similar;
 * - euclidean: the *squared* L2 distance, lower is more similar.
 */
export const METRICS = ['cosine', 'euclidean', 'dotproduct'] as const;
export type Metric = (typeof METRICS)[number];

/**
 * What an index stores: dense vectors of its dimension (with an optional sparse part on
 * dotproduct), or only sparse vectors ("sparse", dotproduct, no dimension: lexical search).
 */
export const VECTOR_TYPES = ['dense', 'sparse'] as const;
export type VectorType = (typeof VECTOR_TYPES)[number];

export function higherIsBetter(metric: Metric): boolean {
  return metric !== 'euclidean';
}

/** Scores one stored vector (at `offset` in `data`) against the query the scorer was made for. */
export type Scorer = (data: Float32Array, offset: number) => number;

export function makeScorer(metric: Metric, query: Float32Array): Scorer {
  const dim = query.length;
  switch (metric) {
    case 'dotproduct':
      return (data, offset) => {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += query[i]! * data[offset + i]!;
        return dot;
      };
    case 'euclidean':
      return (data, offset) => {
        let sum = 0;
        for (let i = 0; i < dim; i++) {
          const d = query[i]! - data[offset + i]!;
          sum += d * d;
        }
        return sum;
      };
    case 'cosine': {
      let qq = 0;
      for (let i = 0; i < dim; i++) qq += query[i]! * query[i]!;
      const qNorm = Math.sqrt(qq);
      return (data, offset) => {
        let dot = 0;
        let vv = 0;
        for (let i = 0; i < dim; i++) {
          const v = data[offset + i]!;
          dot += query[i]! * v;
          vv += v * v;
        }
        const denom = qNorm * Math.sqrt(vv);
        return denom === 0 ? 0 : dot / denom;
      };
    }
  }
}

/**
 * Orders two scored hits best-first; equal scores fall back to the id so that results are
 * deterministic (the property tests compare them to a brute-force model exactly).
 */
export function compareHits(metric: Metric): (a: { score: number; id: string }, b: { score: number; id: string }) => number {
  const sign = higherIsBetter(metric) ? -1 : 1;
  return (a, b) => {
    if (a.score !== b.score) return sign * (a.score - b.score);
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}
