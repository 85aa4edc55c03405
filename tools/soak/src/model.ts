/**
 * What the server must hold, derived from what it acknowledged.
 *
 * One client owns each namespace, and a client sends one request at a time, so the order in
 * which a namespace's writes were acknowledged is the order the server applied them in. What
 * stays unknown is the outcome of a write whose response never came (the server was killed or
 * stopped under it): it may or may not be durable. The model therefore keeps, for every key, the
 * set of states the server may hold — one state once everything about the key is known, more
 * after an unknown outcome — and collapses the set to the server's answer whenever a key is read
 * (fetch, list, a query match, an update's match count). The same holds for whether the namespace
 * exists.
 *
 * Unknown outcomes are tracked per key, not per request: an upsert of ten records whose outcome
 * is unknown leaves each of the ten keys with "before or after", though the server applies the
 * batch whole. The model is therefore slightly more permissive than the server after a crash,
 * never stricter.
 */
import { matchesFilter, type Filter, type Metadata } from './filter.ts';

export type { Filter, Metadata };

export interface StoredRecord {
  values: number[];
  metadata: Metadata;
}

/** A key's state: its record, or `null` when the key holds nothing. */
export type KeyState = StoredRecord | null;

export interface UpsertRecord extends StoredRecord {
  id: string;
}

/** A write as the model applies it, one namespace at a time. */
export type Write =
  | { kind: 'upsert'; records: UpsertRecord[] }
  /** Values replaced and/or metadata merged; a key that holds nothing stays empty. */
  | { kind: 'update'; id: string; values?: number[]; setMetadata?: Metadata }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'deleteByFilter'; filter: Filter }
  | { kind: 'deleteAll' }
  | { kind: 'deleteNamespace' };

/** `acknowledged`: the server answered success. `unknown`: no answer (or a 5xx); it may have been applied. */
export type Outcome = 'acknowledged' | 'unknown';

export type Verdict = { ok: true } | { ok: false; expected: string; observed: string };

const OK: Verdict = { ok: true };

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    if (Array.isArray(x) || Array.isArray(y)) return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => v === y[i]);
    return x === y && y !== undefined;
  });
}

export function sameState(a: KeyState, b: KeyState): boolean {
  if (a === null || b === null) return a === b;
  return sameValues(a.values, b.values) && sameMetadata(a.metadata, b.metadata);
}

function stateKey(s: KeyState): string {
  if (s === null) return 'absent';
  const metadata = Object.keys(s.metadata)
    .sort()
    .map((k) => [k, s.metadata[k]]);
  return JSON.stringify([s.values, metadata]);
}

function distinct(states: readonly KeyState[]): KeyState[] {
  const seen = new Map<string, KeyState>();
  for (const s of states) if (!seen.has(stateKey(s))) seen.set(stateKey(s), s);
  return [...seen.values()];
}

export function describeState(s: KeyState): string {
  return s === null ? 'absent' : JSON.stringify({ values: s.values, metadata: s.metadata });
}

export function describeStates(states: readonly KeyState[]): string {
  return states.length === 1 ? describeState(states[0]!) : `one of ${states.length}: ${states.map(describeState).join(' | ')}`;
}

const ABSENT: readonly KeyState[] = [null];

/** The effect of `write` on one key's state. */
function transition(write: Write, id: string): (s: KeyState) => KeyState {
  switch (write.kind) {
    case 'upsert': {
      const record = write.records.findLast((r) => r.id === id)!;
      return () => ({ values: record.values, metadata: record.metadata });
    }
    case 'update':
      return (s) => (s === null ? null : { values: write.values ?? s.values, metadata: { ...s.metadata, ...write.setMetadata } });
    case 'delete':
    case 'deleteAll':
    case 'deleteNamespace':
      return () => null;
    case 'deleteByFilter':
      return (s) => (s !== null && matchesFilter(write.filter, s.metadata) ? null : s);
  }
}

/** One namespace of one index, as the server may hold it. */
export class NamespaceModel {
  readonly index: string;
  readonly name: string;
  /** Whether the namespace exists (listed); `[false]` until the first upsert. */
  #exists: boolean[] = [false];
  /** Every key ever written; a key not here holds nothing. */
  readonly #keys = new Map<string, KeyState[]>();

  constructor(index: string, name: string) {
    this.index = index;
    this.name = name;
  }

  /** The states `id` may be in (one when known). */
  possible(id: string): readonly KeyState[] {
    return this.#keys.get(id) ?? ABSENT;
  }

  /** Whether the namespace may exist: `[true]`, `[false]` or both. */
  existence(): readonly boolean[] {
    return this.#exists;
  }

  /** Every key ever written here, in no particular order. */
  ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** Keys whose state is not known exactly (written while the server went away). */
  uncertainIds(): string[] {
    return [...this.#keys].filter(([, states]) => states.length > 1).map(([id]) => id);
  }

  /** Keys that certainly hold a record. */
  presentIds(): string[] {
    return [...this.#keys].filter(([, states]) => states.every((s) => s !== null)).map(([id]) => id);
  }

  /** Keys that may hold a record. */
  maybePresentIds(): string[] {
    return [...this.#keys].filter(([, states]) => states.some((s) => s !== null)).map(([id]) => id);
  }

  /** The fewest and most records the namespace may hold. */
  countRange(): [number, number] {
    return [this.presentIds().length, this.maybePresentIds().length];
  }

  apply(write: Write, outcome: Outcome): void {
    const affected =
      write.kind === 'upsert'
        ? write.records.map((r) => r.id)
        : write.kind === 'update'
          ? [write.id]
          : write.kind === 'delete'
            ? write.ids
            : [...this.#keys.keys()];
    for (const id of new Set(affected)) {
      const before = this.possible(id);
      const after = before.map(transition(write, id));
      this.#keys.set(id, distinct(outcome === 'acknowledged' ? after : [...before, ...after]));
    }
    const existsAfter = write.kind === 'upsert' ? true : write.kind === 'deleteNamespace' ? false : undefined;
    if (existsAfter !== undefined) this.#exists = outcome === 'acknowledged' ? [existsAfter] : [...new Set([...this.#exists, existsAfter])];
  }

  /**
   * The server showed `observed` for `id` (a fetch: the record, or nothing). Right when it is one
   * of the possible states; either way the key is known from now on.
   */
  observe(id: string, observed: KeyState): Verdict {
    const possible = this.possible(id);
    this.#keys.set(id, [observed]);
    return possible.some((s) => sameState(s, observed)) ? OK : { ok: false, expected: describeStates(possible), observed: describeState(observed) };
  }

  /** The server showed whether `id` holds a record (a list, an update's match count). */
  observePresence(id: string, present: boolean): Verdict {
    const possible = this.possible(id);
    const consistent = possible.filter((s) => (s !== null) === present);
    if (consistent.length === 0) return { ok: false, expected: describeStates(possible), observed: present ? 'present' : 'absent' };
    this.#keys.set(id, consistent);
    return OK;
  }

  /** The server showed whether the namespace exists (a namespace list, describe namespace). */
  observeExistence(exists: boolean): Verdict {
    if (!this.#exists.includes(exists))
      return { ok: false, expected: this.#exists.length === 1 && this.#exists[0] ? 'exists' : 'absent', observed: exists ? 'exists' : 'absent' };
    this.#exists = [exists];
    return OK;
  }
}
