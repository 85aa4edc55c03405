import {
  LIMITS,
  configureIndexSchema,
  createIndexSchema,
  indexNameSchema,
  recordIdSchema,
  sparseValuesSchema,
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
  /** `dense` or `sparse`; "" is dense. */
  vectorType: string;
  /** Ignored ("" or absent: the form disables it) for a sparse index, unless typed. */
  dimension: string;
  metric: string;
  deletionProtection: string;
  tags: string;
}
export interface CreateIndexValue {
  name: string;
  /** None for a sparse index. */
  dimension?: number | undefined;
  metric?: 'cosine' | 'euclidean' | 'dotproduct' | undefined;
  vectorType: 'dense' | 'sparse';
  deletionProtection: 'enabled' | 'disabled';
  tags?: Record<string, string>;
}

/**
 * The create-index form, checked with core's `createIndexSchema`. A sparse index has no dimension
 * (the form disables the field; a typed one is refused by the schema) and scores by dotproduct (the
 * form disables the metric: an empty one is the server's default, dotproduct).
 */
export function parseCreateIndexForm(fields: CreateIndexFields): Parsed<CreateIndexValue> {
  const tags = parseTags(fields.tags);
  if (!tags.ok) return tags;
  const result = createIndexSchema.safeParse({
    name: fields.name.trim(),
    vectorType: fields.vectorType.trim() || 'dense',
    // Empty is "none": required for a dense index, refused when typed for a sparse one.
    dimension: fields.dimension.trim() === '' ? undefined : toNumber(fields.dimension),
    metric: fields.metric || undefined,
    deletionProtection: fields.deletionProtection || undefined,
    tags: Object.keys(tags.value).length > 0 ? tags.value : undefined,
  });
  if (!result.success) return { ok: false, errors: errorsOf(result.error.issues) };
  const { dimension, metric, ...rest } = result.data;
  // Absent rather than `undefined`: the request carries only what the form set.
  return { ok: true, value: { ...rest, ...(dimension !== undefined ? { dimension } : {}), ...(metric !== undefined ? { metric } : {}) } };
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

/** What the record and query forms need to know of the index. */
export interface IndexShape {
  /** 0 for a sparse index. */
  dimension: number;
  vectorType: 'dense' | 'sparse';
  metric: string;
}

/** A bare dimension is a dense index (of unknown metric: no sparse part). */
function shapeOf(target: number | IndexShape): IndexShape {
  return typeof target === 'number' ? { dimension: target, vectorType: 'dense', metric: '' } : target;
}

/** Whether the forms offer a sparse part: a sparse index (required), or a dense dotproduct one (optional, hybrid). */
export function takesSparse(target: IndexShape): 'required' | 'optional' | 'no' {
  if (target.vectorType === 'sparse') return 'required';
  return target.metric === 'dotproduct' ? 'optional' : 'no';
}

export interface SparseVector {
  indices: number[];
  values: number[];
}

/**
 * A sparse vector typed as two lists, its indices and its values (each a JSON array or
 * comma/space-separated numbers), checked with core's `sparseValuesSchema`: same length, integer
 * indices 0–2³²−1 without repeats, finite float32 values. Both empty is "none" (undefined); with
 * `required`, that is an error too. Errors go to the `sparse` field.
 *
 * @example parseSparseFields('10, 45', '0.5, 1.5', true) // { ok: true, value: { indices: [10, 45], values: [0.5, 1.5] } }
 */
export function parseSparseFields(indicesText: string, valuesText: string, required: boolean): Parsed<SparseVector | undefined> {
  const bothEmpty = indicesText.trim() === '' && valuesText.trim() === '';
  if (bothEmpty) return required ? { ok: false, errors: { sparse: 'give at least one index and its value' } } : { ok: true, value: undefined };
  const indices = parseVectorText(indicesText);
  if (indices === undefined) return { ok: false, errors: { sparse: 'indices must be a list of integers, e.g. [10, 45, 301]' } };
  const values = parseVectorText(valuesText);
  if (values === undefined) return { ok: false, errors: { sparse: 'values must be a list of numbers, e.g. [0.5, 1.2, 0.3]' } };
  const result = sparseValuesSchema.safeParse({ indices, values });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const [list, position] = issue.path;
    const where =
      list === undefined ? '' : `${String(list)}[${String(position)}] (${String(list === 'indices' ? indices[Number(position)] : values[Number(position)])}): `;
    return { ok: false, errors: { sparse: `${where}${issue.message}` } };
  }
  return { ok: true, value: { indices: result.data.indices, values: result.data.values } };
}

export interface UpsertFields {
  id: string;
  values: string;
  metadata: string;
  sparseIndices?: string;
  sparseValues?: string;
}
export interface UpsertValue {
  id: string;
  /** Absent on a record of a sparse index. */
  values?: number[];
  sparseValues?: SparseVector;
  metadata?: Metadata;
}

/**
 * The upsert form: id, values (dimension of the index), optional metadata JSON. A sparse index's
 * record is its sparse values (dense values are not asked for); a dense dotproduct index's record
 * may carry sparse values besides its dense ones.
 */
export function parseUpsertForm(fields: UpsertFields, target: number | IndexShape): Parsed<UpsertValue> {
  const shape = shapeOf(target);
  const sparseMode = takesSparse(shape);
  const errors: FieldErrors = {};
  let values: number[] | undefined = [];
  if (shape.vectorType === 'dense') {
    values = parseVectorText(fields.values);
    checkDimension(values, shape.dimension, errors, 'values');
  }
  let sparseValues: SparseVector | undefined;
  if (sparseMode !== 'no') {
    const sparse = parseSparseFields(fields.sparseIndices ?? '', fields.sparseValues ?? '', sparseMode === 'required');
    if (sparse.ok) sparseValues = sparse.value;
    else Object.assign(errors, sparse.errors);
  }
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
  const record: UpsertValue = { id: result.data.id };
  if (shape.vectorType === 'dense') record.values = result.data.values;
  if (sparseValues) record.sparseValues = sparseValues;
  if (result.data.metadata !== undefined) record.metadata = result.data.metadata;
  return { ok: true, value: record };
}

export interface QueryFields {
  /** `vector` (dense, or sparse on a sparse index) or `id`. */
  mode: string;
  vector: string;
  id: string;
  topK: string;
  filter: string;
  includeValues: boolean;
  sparseIndices?: string;
  sparseValues?: string;
}
export interface QueryValue {
  vector?: number[];
  sparseVector?: SparseVector;
  id?: string;
  topK: number;
  filter?: Filter;
  includeValues: boolean;
  includeMetadata: true;
}

/**
 * The query playground: a vector (of the index's dimension) or "similar to id", topK, filter. On a
 * sparse index the vector is a sparse one (indices and values); on a dense dotproduct index a
 * sparse part may go with the dense vector (a hybrid query).
 */
export function parseQueryForm(fields: QueryFields, target: number | IndexShape): Parsed<QueryValue> {
  const shape = shapeOf(target);
  const sparseMode = takesSparse(shape);
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
    if (shape.vectorType === 'dense') {
      const vector = parseVectorText(fields.vector);
      checkDimension(vector, shape.dimension, errors, 'vector');
      if (vector) value.vector = vector;
    }
    if (sparseMode !== 'no') {
      const sparse = parseSparseFields(fields.sparseIndices ?? '', fields.sparseValues ?? '', sparseMode === 'required');
      if (!sparse.ok) Object.assign(errors, sparse.errors);
      else if (sparse.value) value.sparseVector = sparse.value;
    }
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

/** Longest backup name and description the server takes (packages/api backup-service). */
export const MAX_BACKUP_NAME_LENGTH = 200;
export const MAX_BACKUP_DESCRIPTION_LENGTH = 1000;

export interface CreateBackupValue {
  name?: string;
  description?: string;
}

function backupText(text: string, max: number): string | undefined {
  if (text.length > max) return `must be at most ${max} characters (got ${text.length})`;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'must not contain control characters (one line of text)';
  return undefined;
}

/** The create-backup form: an optional name and description (trimmed; empty ones are left out), checked as the server does. */
export function parseCreateBackupForm(fields: { name: string; description: string }): Parsed<CreateBackupValue> {
  const name = fields.name.trim();
  const description = fields.description.trim();
  const errors: FieldErrors = {};
  const nameError = backupText(name, MAX_BACKUP_NAME_LENGTH);
  if (nameError) errors['name'] = nameError;
  const descriptionError = backupText(description, MAX_BACKUP_DESCRIPTION_LENGTH);
  if (descriptionError) errors['description'] = descriptionError;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { ...(name ? { name } : {}), ...(description ? { description } : {}) } };
}

/** "Restore to new index": the new index's name, checked with core's `indexNameSchema`. */
export function parseRestoreForm(fields: { name: string }): Parsed<{ name: string }> {
  const result = indexNameSchema.safeParse(fields.name.trim());
  if (!result.success) return { ok: false, errors: { name: result.error.issues[0]?.message ?? 'invalid index name' } };
  return { ok: true, value: { name: result.data } };
}
