/**
 * Comparing what the server answered with the model. Each check returns the problems it found
 * and, as a side effect, tells the model what the server showed (so a key whose state was
 * uncertain is known from then on).
 */
import type { QueryMatch, QueryRequest } from './api.ts';
import { matchesFilter } from './filter.ts';
import { describeStates, sameState, type KeyState, type NamespaceModel } from './model.ts';

export type Metric = 'euclidean' | 'cosine';

export interface Problem {
  check: string;
  id?: string;
  expected: string;
  observed: string;
}

/** The score the server reports (docs/api.md): squared L2 distance, or cosine similarity. */
export function score(metric: Metric, query: readonly number[], values: readonly number[]): number {
  if (metric === 'euclidean') {
    let sum = 0;
    for (let i = 0; i < query.length; i++) sum += (query[i]! - values[i]!) ** 2;
    return sum;
  }
  let dot = 0;
  let qq = 0;
  let vv = 0;
  for (let i = 0; i < query.length; i++) {
    dot += query[i]! * values[i]!;
    qq += query[i]! ** 2;
    vv += values[i]! ** 2;
  }
  return qq === 0 || vv === 0 ? 0 : dot / Math.sqrt(qq * vv);
}

/** Scores agree up to the rounding of a different summation order. */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b);
}

/** `a` ranks strictly before `b`, beyond rounding. */
function better(metric: Metric, a: number, b: number): boolean {
  return !close(a, b) && (metric === 'euclidean' ? a < b : a > b);
}

/** A fetch of `ids` answered `found`: each id must be in one of its possible states. */
export function checkFetch(
  model: NamespaceModel,
  ids: readonly string[],
  found: ReadonlyMap<string, { values: number[]; metadata: KeyStateMetadata }>,
): Problem[] {
  const problems: Problem[] = [];
  for (const id of ids) {
    const record = found.get(id);
    const verdict = model.observe(id, record ? { values: record.values, metadata: record.metadata } : null);
    if (!verdict.ok)
      problems.push({
        check: record ? 'fetch: wrong or unexpected record' : 'fetch: record missing',
        id,
        expected: verdict.expected,
        observed: verdict.observed,
      });
  }
  for (const id of found.keys()) if (!ids.includes(id)) problems.push({ check: 'fetch: id not asked for', id, expected: 'not returned', observed: 'returned' });
  return problems;
}

type KeyStateMetadata = NonNullable<KeyState>['metadata'];

/**
 * A query's matches against the model: every match is a record that may be there (with the
 * metadata and values returned, passing the filter, with the score its vector gives), in rank
 * order, without duplicates; and no record that is certainly there and eligible is missing —
 * all of them when fewer than topK came back, else every one that ranks strictly before the last.
 */
export function checkQuery(model: NamespaceModel, metric: Metric, request: QueryRequest, matches: readonly QueryMatch[]): Problem[] {
  const problems: Problem[] = [];
  const { vector, filter } = request;
  const eligible = (s: KeyState): s is NonNullable<KeyState> => s !== null && (filter === undefined || matchesFilter(filter, s.metadata));
  if (matches.length > request.topK) problems.push({ check: 'query: more matches than topK', expected: `≤ ${request.topK}`, observed: String(matches.length) });
  const seen = new Set<string>();
  matches.forEach((m, i) => {
    if (seen.has(m.id)) problems.push({ check: 'query: duplicate match', id: m.id, expected: 'each id once', observed: `again at rank ${i + 1}` });
    seen.add(m.id);
    if (i > 0 && better(metric, m.score, matches[i - 1]!.score)) {
      problems.push({ check: 'query: matches out of order', id: m.id, expected: `score not better than ${matches[i - 1]!.score}`, observed: String(m.score) });
    }
    const possible = model.possible(m.id);
    const returned = m.values !== undefined && m.metadata !== undefined ? { values: m.values, metadata: m.metadata } : undefined;
    const candidates = possible.filter(
      (s) => eligible(s) && close(score(metric, vector, s.values), m.score) && (returned === undefined || sameState(s, returned)),
    );
    if (candidates.length === 0) {
      problems.push({
        check: filter ? 'query: match that is not there, or fails the filter, or has another score' : 'query: match that is not there, or has another score',
        id: m.id,
        expected: `${describeStates(possible)}${filter ? ` passing ${JSON.stringify(filter)}` : ''}`,
        observed: JSON.stringify({ score: m.score, values: m.values, metadata: m.metadata }),
      });
    } else if (returned) model.observe(m.id, returned);
    else model.observePresence(m.id, true);
  });
  const bound = matches.length < request.topK ? undefined : matches[matches.length - 1]?.score;
  for (const id of model.ids()) {
    if (seen.has(id)) continue;
    const states = model.possible(id);
    if (!states.every(eligible)) continue;
    const scores = states.map((s) => score(metric, vector, s!.values));
    if (bound === undefined || scores.every((s) => better(metric, s, bound))) {
      problems.push({
        check:
          bound === undefined
            ? `query: eligible record missing (${matches.length} of topK ${request.topK} returned)`
            : 'query: record ranking before the last match missing',
        id,
        expected: `match with score ${scores.join(' or ')}`,
        observed: 'not returned',
      });
    }
  }
  return problems;
}

/** A complete listing of a namespace's ids (every page): in bitwise order, each once, exactly the records there. */
export function checkList(model: NamespaceModel, listed: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (let i = 1; i < listed.length; i++) {
    if (!(listed[i - 1]! < listed[i]!))
      problems.push({
        check: 'list: ids not in ascending order or repeated',
        id: listed[i]!,
        expected: `after ${listed[i - 1]}`,
        observed: `at position ${i}`,
      });
  }
  const known = new Set(model.ids());
  const seen = new Set(listed);
  for (const id of seen) {
    if (!known.has(id)) {
      problems.push({ check: 'list: id never written here', id, expected: 'absent', observed: 'listed' });
      continue;
    }
    const verdict = model.observePresence(id, true);
    if (!verdict.ok) problems.push({ check: 'list: deleted id listed', id, expected: verdict.expected, observed: verdict.observed });
  }
  for (const id of known) {
    if (seen.has(id)) continue;
    const verdict = model.observePresence(id, false);
    if (!verdict.ok) problems.push({ check: 'list: id missing', id, expected: verdict.expected, observed: verdict.observed });
  }
  return problems;
}

/** A record count the server reported for the namespace (describe, list namespaces). */
export function checkCount(model: NamespaceModel, count: number, source: string): Problem[] {
  const [min, max] = model.countRange();
  return count >= min && count <= max
    ? []
    : [{ check: `${source}: record count`, expected: min === max ? String(min) : `${min}–${max}`, observed: String(count) }];
}

/** Whether the namespace exists, as the server showed it (listed, or describe answered 200 / 404). */
export function checkExistence(model: NamespaceModel, exists: boolean, source: string): Problem[] {
  const verdict = model.observeExistence(exists);
  return verdict.ok ? [] : [{ check: `${source}: namespace ${exists ? 'exists' : 'missing'}`, expected: verdict.expected, observed: verdict.observed }];
}
