/**
 * The shape of the data and the random choices of the workload, from a seeded generator.
 *
 * Two indexes (Euclidean and cosine). Every client owns two namespaces in each, whose names differ
 * only in letter case (object keys must keep them apart on every backend), and a fixed pool of
 * ids in each, so the data stays bounded however long the run: a steady state in which memory
 * and file descriptors should stay flat. Client 0 owns the default namespace of the first index
 * in place of one of its own.
 *
 * Vector components are multiples of 1/8 in [-2, 2]: exact in float32, so values read back must
 * equal what was written.
 */
import type { Filter, Metadata } from './filter.ts';
import type { Metric } from './checks.ts';

export interface IndexSpec {
  name: string;
  dimension: number;
  metric: Metric;
}

export const INDEXES: readonly IndexSpec[] = [
  { name: 'soak-euclidean', dimension: 8, metric: 'euclidean' },
  { name: 'soak-cosine', dimension: 12, metric: 'cosine' },
];

/** Ids per namespace: the pool a client's writes draw from. */
export const KEYS_PER_NAMESPACE = 300;

export interface NamespaceSpec {
  index: IndexSpec;
  name: string;
  /** Prefix of this namespace's ids, unique over the run, so a record in the wrong place is recognizable. */
  idPrefix: string;
}

export function namespacesOf(client: number): NamespaceSpec[] {
  return INDEXES.flatMap((index, i) =>
    [0, 1].map((j) => ({
      index,
      name: client === 0 && i === 0 && j === 0 ? '' : j === 0 ? `c${client}-alpha.ns x` : `C${client}-ALPHA.NS X`,
      idPrefix: `c${client}-i${i}n${j}-`,
    })),
  );
}

export function keyId(ns: NamespaceSpec, k: number): string {
  return `${ns.idPrefix}k${String(k).padStart(4, '0')}`;
}

const COLORS = ['red', 'green', 'blue', 'amber'] as const;
const TAGS = ['a', 'b', 'c', 'd'] as const;

export class Rng {
  readonly #next: () => number;
  constructor(next: () => number) {
    this.#next = next;
  }
  float(): number {
    return this.#next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
  /** `count` distinct items (fewer when there are not as many). */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < count && copy.length > 0) out.push(copy.splice(Math.floor(this.#next() * copy.length), 1)[0]!);
    return out;
  }
  /** An item by weight. */
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T {
    const entries = Object.entries(weights) as [T, number][];
    let r = this.#next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [item, w] of entries) if ((r -= w) < 0) return item;
    return entries[entries.length - 1]![0];
  }
}

export function vector(rng: Rng, dimension: number): number[] {
  const values = Array.from({ length: dimension }, () => rng.int(-16, 16) / 8);
  // A cosine index refuses the zero vector.
  if (!values.some((v) => v !== 0)) values[0] = 1;
  return values;
}

export function metadata(rng: Rng, version: number, client: number): Metadata {
  return {
    color: rng.pick(COLORS),
    n: rng.int(0, 99),
    flag: rng.chance(0.5),
    tags: rng.sample(TAGS, rng.int(1, 3)),
    v: version,
    writer: `c${client}`,
  };
}

/** Metadata an update merges in: changes of existing fields, or a new one. */
export function metadataPatch(rng: Rng, version: number): Metadata {
  switch (rng.int(0, 3)) {
    case 0:
      return { n: rng.int(0, 99), v: version };
    case 1:
      return { color: rng.pick(COLORS), v: version };
    case 2:
      return { flag: rng.chance(0.5) };
    default:
      return { note: `updated-${version}`, v: version };
  }
}

/** A query filter: one field, a range, or a conjunction; matches from about 10% to 50% of records. */
export function queryFilter(rng: Rng): Filter {
  switch (rng.int(0, 4)) {
    case 0:
      return { color: { $eq: rng.pick(COLORS) } };
    case 1:
      return { n: { $gte: rng.int(50, 90) } };
    case 2:
      return { n: { $lt: rng.int(10, 50) } };
    case 3:
      return { $and: [{ color: { $in: rng.sample(COLORS, 2) } }, { flag: { $eq: rng.chance(0.5) } }] };
    default:
      return { $and: [{ tags: { $eq: rng.pick(TAGS) } }, { n: { $gte: rng.int(0, 50) } }] };
  }
}

/** A delete filter: narrow (about 1 in 40 records), so deletes by filter do not empty namespaces. */
export function deleteFilter(rng: Rng): Filter {
  return { $and: [{ color: { $eq: rng.pick(COLORS) } }, { n: { $lt: rng.int(5, 15) } }] };
}
