import {
  LIMITS,
  configureIndexSchema,
  createIndexSchema,
  recordIdSchema,
  startImportSchema,
  vectorRecordSchema,
  type Filter,
  type Metadata,
} from '@conifer/core';
import { parseFilterText } from './filter.ts';

/**
 * Form parsing for the console: text fields in, API inputs out, validated by the same zod schemas
 * of `@conifer/core` the server uses. Pure functions, shared by client components (live
 * validation) and server actions (the check before calling the SDK).
 */

/** Field name → message; empty when the form is valid. */
export type FieldErrors = Record<string, string>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

type Issue = { path: readonly PropertyKey[]; message: string };

/** First issue per top-level field; issues without a path go to `form`. */
function errorsOf(issues: readonly Issue[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'form';
    errors[field] ??= issue.message;
  }
  return errors;
}

/** A number typed into a text field; "" and junk become NaN so the schema reports them. */
function toNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/**
 * Tags typed as `key=value`, one per line or comma-separated. With `allowRemoval`, `key=` (empty
 * value) is kept as "" — which configure reads as "remove this tag".
 *
 * @example parseTags('team=search, env=prod') // { ok: true, value: { team: 'search', env: 'prod' } }
 */
export function parseTags(text: string): Parsed<Record<string, string>> {
  const tags: Record<string, string> = {};
  for (const part of text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, errors: { tags: `"${part}" is not key=value` } };
    tags[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { ok: true, value: tags };
}

export interface CreateIndexFields {
  name: string;
  dimension: string;
  metric: string;
  deletionProtection: string;
  tags: string;
}
export interface CreateIndexValue {
  name: string;
  dimension: number;
  metric: 'cosine' | 'euclidean' | 'dotproduct';
  deletionProtection: 'enabled' | 'disabled';
  tags?: Record<string, string>;
}

/** The create-index form, checked with core's `createIndexSchema`. */
export function parseCreateIndexForm(fields: CreateIndexFields): Parsed<CreateIndexValue> {
  const tags = parseTags(fields.tags);
  if (!tags.ok) return tags;
  const result = createIndexSchema.safeParse({
    name: fields.name.trim(),
    dimension: toNumber(fields.dimension),
    metric: fields.metric || undefined,
    deletionProtection: fields.deletionProtection || undefined,
    tags: Object.keys(tags.value).length > 0 ? tags.value : undefined,
  });
  if (!result.success) return { ok: false, errors: errorsOf(result.error.issues) };
  return { ok: true, value: result.data };
}

export interface ConfigureIndexValue {
  deletionProtection: 'enabled' | 'disabled';
  tags?: Record<string, string>;
}

/**
 * The configure form: deletion protection and tags to merge (`key=` removes a tag), checked with
 * core's `configureIndexSchema`.
 */
export function parseConfigureForm(name: string, fields: { deletionProtection: string; tags: string }): Parsed<ConfigureIndexValue> {
  const tags = parseTags(fields.tags);
  if (!tags.ok) return tags;
  const result = configureIndexSchema.safeParse({
    name,
    deletionProtection: fields.deletionProtection,
    tags: Object.keys(tags.value).length > 0 ? tags.value : undefined,
  });
  if (!result.success) return { ok: false, errors: errorsOf(result.error.issues) };
  const { deletionProtection, tags: merged } = result.data;
  return { ok: true, value: { deletionProtection: deletionProtection ?? 'disabled', ...(merged ? { tags: merged } : {}) } };
}

/**
 * A vector typed as a JSON array (`[0.1, 0.2]`) or as bare comma/space-separated numbers.
 * Returns undefined when the text is not a list of numbers.
 */
export function parseVectorText(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const body = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  const parts = body.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return undefined;
  const values = parts.map(Number);
  return values.every((v) => Number.isFinite(v)) ? values : undefined;
}

function checkDimension(values: number[] | undefined, dimension: number, errors: FieldErrors, field: string): void {
  if (values === undefined) errors[field] ??= 'must be a list of numbers, e.g. [0.1, 0.2, 0.3]';
  else if (values.length !== dimension) errors[field] ??= `must have ${dimension} dimensions, the index's dimension (got ${values.length})`;
}

export interface UpsertValue {
  id: string;
  values: number[];
  metadata?: Metadata;
}

/** The upsert form: id, values (dimension of the index), optional metadata JSON. */
export function parseUpsertForm(fields: { id: string; values: string; metadata: string }, dimension: number): Parsed<UpsertValue> {
  const errors: FieldErrors = {};
  const values = parseVectorText(fields.values);
  checkDimension(values, dimension, errors, 'values');
  let metadata: unknown;
  if (fields.metadata.trim() !== '') {
    try {
      metadata = JSON.parse(fields.metadata);
    } catch (error) {
      errors['metadata'] = `not valid JSON: ${(error as Error).message}`;
    }
  }
  const result = vectorRecordSchema.safeParse({ id: fields.id, values: values ?? [], metadata });
  if (!result.success) for (const [field, message] of Object.entries(errorsOf(result.error.issues))) errors[field] ??= message;
  if (Object.keys(errors).length > 0 || !result.success) return { ok: false, errors };
  const record: UpsertValue = { id: result.data.id, values: result.data.values };
  if (result.data.metadata !== undefined) record.metadata = result.data.metadata;
  return { ok: true, value: record };
}

export interface QueryFields {
  mode: string;
  vector: string;
  id: string;
  topK: string;
  filter: string;
  includeValues: boolean;
}
export interface QueryValue {
  vector?: number[];
  id?: string;
  topK: number;
  filter?: Filter;
  includeValues: boolean;
  includeMetadata: true;
}

/** The query playground: a vector (of the index's dimension) or "similar to id", topK, filter. */
export function parseQueryForm(fields: QueryFields, dimension: number): Parsed<QueryValue> {
  const errors: FieldErrors = {};
  const value: QueryValue = { topK: toNumber(fields.topK), includeValues: fields.includeValues, includeMetadata: true };
  if (!Number.isInteger(value.topK) || value.topK < LIMITS.minTopK || value.topK > LIMITS.maxTopK) {
    errors['topK'] = `must be an integer ${LIMITS.minTopK}–${LIMITS.maxTopK}`;
  }
  if (fields.mode === 'id') {
    const id = recordIdSchema.safeParse(fields.id);
    if (id.success) value.id = id.data;
    else errors['id'] = id.error.issues[0]?.message ?? 'invalid id';
  } else {
    const vector = parseVectorText(fields.vector);
    checkDimension(vector, dimension, errors, 'vector');
    if (vector) value.vector = vector;
  }
  const filter = parseFilterText(fields.filter);
  if (!filter.ok) errors['filter'] = filter.error;
  else if (filter.filter) value.filter = filter.filter;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value };
}

export type DeleteValue = { ids: string[] } | { filter: Filter };

/** The delete form: ids (comma- or line-separated) or a filter. */
export function parseDeleteForm(fields: { mode: string; ids: string; filter: string }): Parsed<DeleteValue> {
  if (fields.mode === 'filter') {
    const filter = parseFilterText(fields.filter);
    if (!filter.ok) return { ok: false, errors: { filter: filter.error } };
    if (!filter.filter) return { ok: false, errors: { filter: 'a filter is required (delete everything from the namespace page instead)' } };
    return { ok: true, value: { filter: filter.filter } };
  }
  const ids = fields.ids
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) return { ok: false, errors: { ids: 'give at least one id' } };
  if (ids.length > LIMITS.maxIdsPerRequest) return { ok: false, errors: { ids: `at most ${LIMITS.maxIdsPerRequest} ids per request` } };
  for (const id of ids) {
    const result = recordIdSchema.safeParse(id);
    if (!result.success) return { ok: false, errors: { ids: `"${id}" ${result.error.issues[0]?.message ?? 'is not a valid id'}` } };
  }
  return { ok: true, value: { ids } };
}

export interface StartImportValue {
  uri: string;
  errorMode: 'abort' | 'continue';
}

/**
 * The start-import form: the URI (trimmed) and the error mode, checked with core's
 * `startImportSchema`; the server checks the rest (scheme, whether `file://` is allowed).
 */
export function parseStartImportForm(index: string, fields: { uri: string; errorMode: string }): Parsed<StartImportValue> {
  const result = startImportSchema.safeParse({ index, uri: fields.uri.trim(), errorMode: fields.errorMode || 'continue' });
  if (!result.success) return { ok: false, errors: errorsOf(result.error.issues) };
  return { ok: true, value: { uri: result.data.uri, errorMode: result.data.errorMode ?? 'continue' } };
}
