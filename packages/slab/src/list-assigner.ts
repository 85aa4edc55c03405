import { FaissIndex } from '@conifer/faiss';
import { normalizeRows, type AnnHeader } from './ann.ts';
import type { IvfLayout } from '@conifer/faiss';

/**
 * Puts vectors into groups of an IVF slab's lists as they are written, so that a query can probe
 * recent rows (a memtable's) near the lists it probes in the slab instead of scanning them all
 * exactly.
 *
 * Finding each vector's nearest of thousands of centroids costs about as much as building an
 * index over it, more than ingest can afford per row. So the centroids are clustered into at most
 * {@link MAX_GROUPS} groups (k-means over the centroids), a vector goes into the group of the
 * nearest group centroid (a comparison with a few hundred centroids, batched on the libuv pool),
 * and a query scans the groups of the lists it probes (`groupsOf`). A slab with few lists is its
 * own grouping: each list is a group and vectors go into their nearest list.
 */
export class ListAssigner {
  readonly layout: IvfLayout;
  readonly ann: AnnHeader;
  readonly dimension: number;
  readonly nlist: number;
  readonly #grouping: Promise<Grouping>;
  /** The group of each list, once the grouping is trained (until then `groupsOf` is undefined). */
  #groupOf: Int32Array | undefined;

  private constructor(layout: IvfLayout, ann: AnnHeader, dimension: number) {
    this.layout = layout;
    this.ann = ann;
    this.dimension = dimension;
    this.nlist = layout.offsets.length - 1;
    this.#grouping = groupLists(layout.centroids, dimension, this.nlist, ann).then((grouping) => {
      this.#groupOf = grouping.groupOf;
      return grouping;
    });
    // A failed grouping rejects each assign() that awaits it; none may go unhandled before then.
    this.#grouping.catch(() => undefined);
  }

  /** The assigner of an IVF slab's quantizer (one per set of centroids), or undefined for a slab without one. */
  static of(layout: IvfLayout | undefined, ann: AnnHeader | undefined, dimension: number): ListAssigner | undefined {
    if (!layout || !ann || layout.offsets.length < 2) return undefined;
    let assigner = assigners.get(layout.centroids);
    if (!assigner) {
      assigner = new ListAssigner(layout, ann, dimension);
      assigners.set(layout.centroids, assigner);
    }
    return assigner;
  }

  /** The group of each row of `vectors` (rows of `dimension`), compared as this quantizer's index compares them. */
  async assign(vectors: Float32Array): Promise<Int32Array> {
    const { index } = await this.#grouping;
    const queries = this.ann.normalized ? normalizeRows(vectors, this.dimension) : vectors;
    return (await index.search(queries, 1)).labels;
  }

  /** The distinct groups of `lists` (the lists a query probes), or undefined before the grouping is trained. */
  groupsOf(lists: Int32Array): Int32Array | undefined {
    const groupOf = this.#groupOf;
    if (!groupOf) return undefined;
    const groups = new Set<number>();
    for (const list of lists) groups.add(groupOf[list]!);
    return Int32Array.from(groups);
  }
}

interface Grouping {
  /** Finds a vector's group: a flat index over the group centroids. */
  index: FaissIndex;
  groupOf: Int32Array;
}

const assigners = new WeakMap<Float32Array, ListAssigner>();

/**
 * Groups a quantizer's lists are clustered into, at most: a vector is compared with this many
 * centroids when it is written, and a query scans the groups of its probed lists, about
 * nlist / MAX_GROUPS lists' worth of rows for each.
 */
const MAX_GROUPS = 256;

async function groupLists(centroids: Float32Array, dimension: number, nlist: number, ann: AnnHeader): Promise<Grouping> {
  let groupCentroids = centroids;
  let groupOf = Int32Array.from({ length: nlist }, (_, list) => list);
  if (nlist > MAX_GROUPS) {
    const clustering = FaissIndex.create(dimension, `IVF${MAX_GROUPS},Flat`, ann.faissMetric);
    try {
      // Every centroid trains the grouping (a few thousand points: milliseconds).
      await clustering.train(centroids, { minPointsPerCentroid: 1, maxPointsPerCentroid: Math.ceil(nlist / MAX_GROUPS) + 1 });
      await clustering.add(centroids);
      const layout = clustering.ivfLayout();
      groupCentroids = layout.centroids;
      groupOf = new Int32Array(nlist);
      for (let group = 0; group < MAX_GROUPS; group++) {
        for (let at = layout.offsets[group]!; at < layout.offsets[group + 1]!; at++) groupOf[layout.rows[at]!] = group;
      }
    } finally {
      clustering.dispose();
    }
  }
  const index = FaissIndex.create(dimension, 'Flat', ann.faissMetric);
  await index.add(groupCentroids);
  return { index, groupOf };
}
