/**
 * The full check at the end of a run, with no writes in flight: for every namespace any client
 * owned — the namespace is listed exactly when it should exist, with the right record count; its
 * complete id listing (every page) is exactly the model's records; every record ever written is
 * fetched and must equal the model's values (float32-exact) and metadata, or be gone; a query
 * returns exactly the namespace's records; and a few records' own vectors find them first.
 */
import { listAllPages, type DataApi } from './api.ts';
import { checkCount, checkExistence, checkFetch, checkList, checkQuery, score, type Problem } from './checks.ts';
import type { NamespaceModel } from './model.ts';
import type { NamespaceSpec } from './workload.ts';

export interface VerifyCounts {
  namespacesChecked: number;
  /** Namespaces that were deleted (and not written again) and must be gone. */
  deletedNamespacesChecked: number;
  /** Records fetched and compared with the model's values and metadata. */
  recordsChecked: number;
  /** Ids written at some point and deleted since: fetched, and must be absent. */
  deletedIdsChecked: number;
  queriesChecked: number;
}

export interface VerifyTarget {
  spec: NamespaceSpec;
  model: NamespaceModel;
}

export type ReportProblems = (target: VerifyTarget, problems: Problem[]) => void;

const FETCH_CHUNK = 100;
const PAGE = 100;
const OWN_VECTOR_QUERIES = 5;

export async function verifyAll(targets: readonly VerifyTarget[], apis: readonly DataApi[], report: ReportProblems): Promise<VerifyCounts> {
  const counts: VerifyCounts = { namespacesChecked: 0, deletedNamespacesChecked: 0, recordsChecked: 0, deletedIdsChecked: 0, queriesChecked: 0 };
  const indexes = [...new Set(targets.map((t) => t.spec.index.name))];
  const listed = new Map<string, Map<string, number>>();
  for (const [i, index] of indexes.entries()) {
    const api = apis[i % apis.length]!;
    const namespaces = await listAllPages((paginationToken) => api.listNamespaces(index, { limit: PAGE, ...(paginationToken ? { paginationToken } : {}) }));
    listed.set(index, new Map(namespaces.map((ns) => [ns.name, ns.recordCount])));
  }
  for (const [i, target] of targets.entries()) {
    const { spec, model } = target;
    const api = apis[i % apis.length]!;
    const other = apis[(i + 1) % apis.length]!;
    const problems: Problem[] = [];
    const recordCount = listed.get(spec.index.name)!.get(spec.name);
    problems.push(...checkExistence(model, recordCount !== undefined, 'end: listNamespaces'));

    const ids = await listAllPages((paginationToken) =>
      api.listIds(spec.index.name, spec.name, { limit: PAGE, ...(paginationToken ? { paginationToken } : {}) }),
    );
    problems.push(...checkList(model, ids));

    const toFetch = [...new Set([...model.ids(), ...ids])].sort();
    for (let at = 0; at < toFetch.length; at += FETCH_CHUNK) {
      const chunk = toFetch.slice(at, at + FETCH_CHUNK);
      const found = await other.fetch(spec.index.name, spec.name, chunk);
      problems.push(...checkFetch(model, chunk, found));
      counts.recordsChecked += found.size;
      counts.deletedIdsChecked += chunk.length - found.size;
    }
    if (recordCount !== undefined) problems.push(...checkCount(model, recordCount, 'end: listNamespaces'));

    const present = model.presentIds().sort();
    if (present.length > 0) {
      // Every record, ranked: nothing missing, nothing extra, every score right.
      const vector = model.possible(present[0]!)[0]!.values;
      const request = { vector, topK: Math.min(1000, present.length + 10), includeValues: true, includeMetadata: true };
      problems.push(...checkQuery(model, spec.index.metric, request, await api.query(spec.index.name, spec.name, request)));
      counts.queriesChecked++;
      for (let q = 0; q < Math.min(OWN_VECTOR_QUERIES, present.length); q++) {
        const id = present[Math.floor((q * present.length) / OWN_VECTOR_QUERIES)]!;
        const values = model.possible(id)[0]!.values;
        const own = { vector: values, topK: 3, includeValues: false, includeMetadata: false };
        const matches = await other.query(spec.index.name, spec.name, own);
        problems.push(...checkQuery(model, spec.index.metric, own, matches));
        counts.queriesChecked++;
        // First, or tied with the first (another record may hold the same direction or vector).
        const best = score(spec.index.metric, values, values);
        const first = matches[0];
        if (!matches.some((m) => m.id === id) || first === undefined || Math.abs(first.score - best) > 1e-6) {
          problems.push({
            check: 'end: query by own vector',
            id,
            expected: `${id} first (score ${best})`,
            observed: JSON.stringify(matches.map((m) => [m.id, m.score])),
          });
        }
      }
    }
    if (model.existence().every((e) => !e)) counts.deletedNamespacesChecked++;
    else counts.namespacesChecked++;
    report(target, problems);
  }
  return counts;
}
