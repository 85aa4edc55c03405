import { knobFor, type ListAssigner, type SlabReader } from '@conifer/slab';
import { centroidQuery, type CentroidRanking } from './centroid-ranking.ts';

/**
 * The rows of a flat slab grouped by a {@link ListAssigner}, as they were in the memtable it was
 * flushed from: a query then scans the rows of the groups it probes, as it did in the memtable,
 * until the slab gets its own index. Derived state kept in memory by the process that flushed
 * the slab (a slab opened later has none, and is scanned exactly until indexed).
 */
export interface RowGroups {
  readonly assigner: ListAssigner;
  /** Rows of group g are rows[offsets[g] .. offsets[g + 1]). */
  readonly offsets: Int32Array;
  readonly rows: Int32Array;
  /** Rows without a group (written after the memtable's last assignment): always scanned. */
  readonly loose: Int32Array;
}

const attached = new WeakMap<SlabReader, RowGroups>();

/** Records that row r of `reader` is in group `groupOfRow[r]` of `assigner` (-1: none). */
export function attachRowGroups(reader: SlabReader, assigner: ListAssigner, groupOfRow: Int32Array): void {
  let groups = 1;
  for (const group of groupOfRow) if (group >= groups) groups = group + 1;
  const offsets = new Int32Array(groups + 1);
  let loose = 0;
  for (const group of groupOfRow) {
    if (group < 0) loose++;
    else offsets[group + 1]!++;
  }
  for (let g = 0; g < groups; g++) offsets[g + 1]! += offsets[g]!;
  const rows = new Int32Array(groupOfRow.length - loose);
  const looseRows = new Int32Array(loose);
  const next = offsets.slice(0, groups);
  let l = 0;
  groupOfRow.forEach((group, row) => {
    if (group < 0) looseRows[l++] = row;
    else rows[next[group]!++] = row;
  });
  attached.set(reader, { assigner, offsets, rows, loose: looseRows });
}

/** The row groups attached to `reader`, if any. */
export function rowGroupsOf(reader: SlabReader): RowGroups | undefined {
  return attached.get(reader);
}

/** The rows of `groups` in the `probed` groups, and the loose ones. */
export function groupedRows(groups: RowGroups, probed: Int32Array): Int32Array {
  const { offsets, rows, loose } = groups;
  let size = loose.length;
  for (const g of probed) if (g + 1 < offsets.length) size += offsets[g + 1]! - offsets[g]!;
  const out = new Int32Array(size);
  let n = 0;
  for (const g of probed) if (g + 1 < offsets.length) for (let at = offsets[g]!; at < offsets[g + 1]!; at++) out[n++] = rows[at]!;
  out.set(loose, n);
  return out;
}

/**
 * The groups a query scans: those of the lists the quantizer's calibrated knob probes for the
 * whole namespace, grown by 1/`selectivity` under a filter as an IVF slab's knob is (recent rows
 * are no smaller a part of the top k than their share, so they get the whole namespace's knob).
 * Undefined while the grouping is not trained.
 */
export function probedGroups(
  assigner: ListAssigner,
  query: Float32Array,
  recallTarget: number | undefined,
  ranking: CentroidRanking,
  selectivity = 1,
): Int32Array | undefined {
  const { ann, layout, dimension, nlist } = assigner;
  if (query.length !== dimension) return undefined;
  const knob = Math.min(nlist, Math.ceil(knobFor(ann, recallTarget ?? ann.recallTarget) / Math.max(selectivity, 1 / nlist)));
  const { probe, metric, normalized } = centroidQuery(ann, query, dimension);
  const lists = ranking.nearest(layout, dimension, probe, metric, normalized, knob);
  return assigner.groupsOf(lists);
}
