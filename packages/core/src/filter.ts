import { LIMITS } from './limits.ts';
import type { Metadata, MetadataValue } from './metadata.ts';

/** A value a filter compares with. */
export type Primitive = string | number | boolean;
/** The operators of one field's clause. */
export interface FieldOps {
  $eq?: Primitive;
  $ne?: Primitive;
  $gt?: number;
  $gte?: number;
  $lt?: number;
  $lte?: number;
  $in?: Primitive[];
  $nin?: Primitive[];
  $exists?: boolean;
}
/**
 * The metadata filter language (Pinecone's): `$eq $ne $gt $gte $lt $lte $in $nin $exists`, plus
 * `$and` / `$or` over sub-filters. Several fields in one object are an implicit AND, a bare value is
 * `$eq`, and a field holding a list of strings matches when any element satisfies the clause.
 *
 * Records that lack the field never match `$ne` / `$nin` (Pinecone's observed behaviour); use
 * `$exists: false` to select them.
 */
export type Filter = {
  $and?: Filter[];
  $or?: Filter[];
} & { [field: string]: Primitive | FieldOps | Filter[] | undefined };

export interface FilterIssue {
  path: (string | number)[];
  message: string;
}

const FIELD_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isPrimitive(v: unknown): v is Primitive {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Returns every problem in `input` as a filter; an empty list means it is valid. */
export function validateFilter(input: unknown, path: (string | number)[] = [], depth = 0): FilterIssue[] {
  const issues: FilterIssue[] = [];
  if (!isPlainObject(input)) {
    issues.push({ path, message: 'a filter must be an object' });
    return issues;
  }
  if (depth > LIMITS.maxFilterDepth) {
    issues.push({ path, message: `filters may nest at most ${LIMITS.maxFilterDepth} levels of $and/$or` });
    return issues;
  }
  if (Object.keys(input).length === 0 && depth > 0) {
    issues.push({ path, message: 'a filter clause must not be empty' });
  }
  for (const [key, value] of Object.entries(input)) {
    const at = [...path, key];
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        issues.push({ path: at, message: `${key} takes a non-empty array of filters` });
        continue;
      }
      value.forEach((sub, i) => issues.push(...validateFilter(sub, [...at, i], depth + 1)));
    } else if (key.startsWith('$')) {
      issues.push({ path: at, message: `unknown or misplaced operator ${key}: only $and and $or may appear where field names go` });
    } else if (isPrimitive(value)) {
      // shorthand for $eq
    } else if (isPlainObject(value)) {
      if (Object.keys(value).length === 0) issues.push({ path: at, message: 'a field clause needs at least one operator' });
      for (const [op, operand] of Object.entries(value)) issues.push(...validateOperator(op, operand, [...at, op]));
    } else {
      issues.push({ path: at, message: 'a field clause must be a string, number, boolean or an object of operators' });
    }
  }
  return issues;
}

function validateOperator(op: string, operand: unknown, at: (string | number)[]): FilterIssue[] {
  if (!FIELD_OPS.has(op)) return [{ path: at, message: `unknown operator ${op}` }];
  switch (op) {
    case '$eq':
    case '$ne':
      return isPrimitive(operand) ? [] : [{ path: at, message: `${op} takes a string, number or boolean` }];
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return typeof operand === 'number' && Number.isFinite(operand) ? [] : [{ path: at, message: `${op} takes a finite number` }];
    case '$exists':
      return typeof operand === 'boolean' ? [] : [{ path: at, message: '$exists takes a boolean' }];
    default: {
      // $in / $nin
      if (!Array.isArray(operand)) return [{ path: at, message: `${op} takes an array` }];
      if (operand.length > LIMITS.maxInValues) return [{ path: at, message: `${op} takes at most ${LIMITS.maxInValues} values (got ${operand.length})` }];
      const bad = operand.findIndex((v) => !isPrimitive(v));
      return bad === -1 ? [] : [{ path: [...at, bad], message: `${op} values must be strings, numbers or booleans` }];
    }
  }
}

/**
 * The first metadata field a validated filter names for which `isIndexed` is false, with the path
 * it is named at (`['$and', 0, 'year']`), depth first; undefined when every field is indexed.
 */
export function unindexedFilterField(
  filter: Filter,
  isIndexed: (field: string) => boolean,
  path: readonly (string | number)[] = [],
): { field: string; path: (string | number)[] } | undefined {
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (key === '$and' || key === '$or') {
      const subs = value as Filter[];
      for (let i = 0; i < subs.length; i++) {
        const found = unindexedFilterField(subs[i]!, isIndexed, [...path, key, i]);
        if (found !== undefined) return found;
      }
    } else if (!isIndexed(key)) {
      return { field: key, path: [...path, key] };
    }
  }
  return undefined;
}

export type MetadataPredicate = (metadata: Metadata | undefined) => boolean;

/** Compiles a validated filter into a predicate. An empty filter matches everything. */
export function compileFilter(filter: Filter | undefined): MetadataPredicate {
  if (!filter) return () => true;
  const clauses: MetadataPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (key === '$and') {
      const subs = (value as Filter[]).map(compileFilter);
      clauses.push((m) => subs.every((p) => p(m)));
    } else if (key === '$or') {
      const subs = (value as Filter[]).map(compileFilter);
      clauses.push((m) => subs.some((p) => p(m)));
    } else if (isPrimitive(value)) {
      clauses.push((m) => matchesAny(fieldOf(m, key), (v) => v === value));
    } else {
      for (const [op, operand] of Object.entries(value as FieldOps)) clauses.push(compileOperator(key, op, operand));
    }
  }
  if (clauses.length === 1) return clauses[0]!;
  return (m) => clauses.every((p) => p(m));
}

/**
 * The record's own value of `field`. Plain `m[field]` would find Object.prototype's members, so
 * "constructor" or "toString" would exist on every record.
 */
function fieldOf(m: Metadata | undefined, field: string): MetadataValue | undefined {
  return m !== undefined && Object.hasOwn(m, field) ? m[field] : undefined;
}

/** True when the field's value (or, for a list, any element) satisfies `test`. */
function matchesAny(field: MetadataValue | undefined, test: (v: Primitive) => boolean): boolean {
  if (field === undefined) return false;
  if (Array.isArray(field)) return field.some(test);
  return test(field);
}

function compileOperator(key: string, op: string, operand: unknown): MetadataPredicate {
  switch (op) {
    case '$eq':
      return (m) => matchesAny(fieldOf(m, key), (v) => v === operand);
    case '$ne':
      return (m) => {
        const field = fieldOf(m, key);
        return field !== undefined && !matchesAny(field, (v) => v === operand);
      };
    case '$gt':
      return (m) => matchesAny(fieldOf(m, key), (v) => typeof v === 'number' && v > (operand as number));
    case '$gte':
      return (m) => matchesAny(fieldOf(m, key), (v) => typeof v === 'number' && v >= (operand as number));
    case '$lt':
      return (m) => matchesAny(fieldOf(m, key), (v) => typeof v === 'number' && v < (operand as number));
    case '$lte':
      return (m) => matchesAny(fieldOf(m, key), (v) => typeof v === 'number' && v <= (operand as number));
    case '$in': {
      const set = new Set(operand as Primitive[]);
      return (m) => matchesAny(fieldOf(m, key), (v) => set.has(v));
    }
    case '$nin': {
      const set = new Set(operand as Primitive[]);
      return (m) => {
        const field = fieldOf(m, key);
        return field !== undefined && !matchesAny(field, (v) => set.has(v));
      };
    }
    case '$exists':
      return (m) => (fieldOf(m, key) !== undefined) === operand;
    default:
      throw new Error(`unvalidated filter operator ${op}`);
  }
}
