import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { validateFilter, type Filter } from './filter.ts';
import type { Metadata } from './metadata.ts';
import { utf8Length } from './utf8.ts';

/**
 * The field schemas requests are built from (ids, vectors, metadata, filters, names), and how a
 * failed validation is rendered. The requests themselves are in index-schemas.ts (control plane)
 * and request-schemas.ts (data plane); all are shared by the server (validation) and the SDK
 * (types). Messages name the limit; the field comes from the issue path (see `formatIssues`).
 */

/**
 * The smallest magnitude that rounds to infinity as a float32 (2^128 − 2^103, halfway between the
 * largest float32 and 2^128). Values are stored as float32, so anything smaller in magnitude is
 * stored as a finite number — including 3.4028235e38, the shortest decimal of the largest float32,
 * which is how a fetch returns that value and which must therefore be accepted back.
 */
export const FLOAT32_OVERFLOW = 2 ** 128 - 2 ** 103;

/** A finite number that is still finite once rounded to float32. */
function isFloat32(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(Math.fround(v));
}
// ASCII without NUL, as Pinecone documents for record ids.
// eslint-disable-next-line no-control-regex -- the range deliberately starts after NUL
const ASCII_NO_NUL = /^[\x01-\x7f]*$/;

export const recordIdSchema = z
  .string({ error: 'must be a string' })
  .min(LIMITS.minIdLength, { error: `must be ${LIMITS.minIdLength}–${LIMITS.maxIdLength} characters` })
  .max(LIMITS.maxIdLength, { error: `must be at most ${LIMITS.maxIdLength} characters` })
  .regex(ASCII_NO_NUL, { error: 'must contain only ASCII characters other than NUL' });

/**
 * Dense vector values. A hand-written loop rather than `z.array(z.number())`: an upsert of 1000
 * records × 1536 dimensions is 1.5M numbers and this check sits on the ingest path.
 */
export const vectorValuesSchema = z
  .custom<number[]>(() => true)
  .superRefine((value, ctx) => {
    if (!Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be an array of numbers' });
      return;
    }
    // Empty is allowed here: it is what a sparse index's records carry; a dense index refuses it
    // when it checks the dimension.
    if (value.length > LIMITS.maxDimension) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${LIMITS.maxDimension} dimensions (got ${value.length})` });
      return;
    }
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (!isFloat32(v)) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'must be a finite number within float32 range' });
        return;
      }
    }
  });

/**
 * A sparse vector: parallel arrays of unsigned 32-bit indices (unique) and finite values. Used in
 * sparse-dense (hybrid) records on dotproduct indexes, where the score is dense·dense + sparse·sparse.
 */
export const sparseValuesSchema = z
  .object({
    indices: z.array(z.number({ error: 'must be numbers' }), { error: 'must be an array of integers' }),
    values: z.array(z.number({ error: 'must be numbers' }), { error: 'must be an array of numbers' }),
  })
  .superRefine((sv, ctx) => {
    if (sv.indices.length !== sv.values.length) {
      ctx.addIssue({ code: 'custom', message: `indices and values must have the same length (got ${sv.indices.length} and ${sv.values.length})` });
      return;
    }
    if (sv.indices.length > LIMITS.maxSparseValues) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${LIMITS.maxSparseValues} non-zero values (got ${sv.indices.length})` });
      return;
    }
    const seen = new Set<number>();
    for (let i = 0; i < sv.indices.length; i++) {
      const index = sv.indices[i]!;
      if (!Number.isInteger(index) || index < 0 || index > LIMITS.maxSparseIndex) {
        ctx.addIssue({ code: 'custom', path: ['indices', i], message: `must be an integer 0–${LIMITS.maxSparseIndex}` });
        return;
      }
      if (seen.has(index)) {
        ctx.addIssue({ code: 'custom', path: ['indices', i], message: `index ${index} appears twice` });
        return;
      }
      seen.add(index);
      const value = sv.values[i]!;
      if (!isFloat32(value)) {
        ctx.addIssue({ code: 'custom', path: ['values', i], message: 'must be a finite number within float32 range' });
        return;
      }
    }
  });

const metadataValueSchema = z.union(
  [z.string(), z.number().refine(Number.isFinite, { error: 'must be finite' }), z.boolean(), z.array(z.string({ error: 'lists may hold only strings' }))],
  { error: 'must be a string, number, boolean or list of strings (null and nested objects are not supported)' },
);

/**
 * The size metadata is limited by: its JSON's UTF-8 bytes — counted exactly only when they could
 * exceed the limit. UTF-8 takes at most 3 bytes per UTF-16 unit, so when three times the units fit,
 * the unit count (not above the bytes) decides the same, and short metadata needs no count.
 */
function metadataJsonBytes(metadata: object): number {
  const json = JSON.stringify(metadata);
  return json.length * 3 <= LIMITS.maxMetadataBytes ? json.length : utf8Length(json);
}

/**
 * Refuses an object with an own `__proto__` key (JSON.parse and Struct decoding make one), by name.
 * zod's records leave that key out of their output without checking its value, so a record schema
 * alone would store such metadata without it — a write acknowledged with a field silently lost.
 */
export function refusingProtoKey<T extends z.ZodType>(schema: T, message: string): T {
  // Typed as the record schema: the same input and output types (the SDK's contract is generated
  // from them), with one more refusal.
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) ctx.addIssue({ code: 'custom', path: ['__proto__'], message });
    })
    .pipe(schema) as unknown as T;
}

const metadataRecordSchema = z.record(z.string(), metadataValueSchema, { error: 'must be a flat object' }).superRefine((metadata, ctx) => {
  for (const key of Object.keys(metadata)) {
    if (key.length === 0) ctx.addIssue({ code: 'custom', path: [key], message: 'metadata keys must not be empty' });
    else if (key.startsWith('$')) ctx.addIssue({ code: 'custom', path: [key], message: "metadata keys must not start with '$'" });
  }
  const bytes = metadataJsonBytes(metadata);
  if (bytes > LIMITS.maxMetadataBytes) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${LIMITS.maxMetadataBytes} bytes as JSON (got ${bytes})` });
  }
});

export const metadataSchema = refusingProtoKey(metadataRecordSchema, "metadata keys must not be '__proto__'") as unknown as z.ZodType<Metadata, Metadata>;

/**
 * True when `value` certainly passes `metadataSchema` *and* the schema would give it back as it is
 * (same keys, same values): a shortcut for readers that check many records' metadata, such as the
 * REST upsert's fast reader, where the schema's generic machinery costs more than reading the
 * record. False says nothing: the caller then asks the schema, which stays the source of truth and
 * of the messages. An own `__proto__` key (JSON.parse makes one) always goes to the schema, which
 * refuses it. A property test holds this to the schema.
 */
export function isPlainValidMetadata(value: unknown): value is Metadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key.length === 0 || key.charCodeAt(0) === 0x24 /* $ */ || key === '__proto__') return false;
    const v = record[key];
    if (typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) continue;
      return false;
    }
    if (!Array.isArray(v)) return false;
    for (const item of v) if (typeof item !== 'string') return false;
  }
  return metadataJsonBytes(record) <= LIMITS.maxMetadataBytes;
}

export const filterSchema = z
  .custom<Filter>(() => true)
  .superRefine((value, ctx) => {
    for (const issue of validateFilter(value)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

/** "" and "__default__" both name the default namespace; it is stored as "". */
export const DEFAULT_NAMESPACE_ALIAS = '__default__';
// Printable ASCII (space to tilde), as Pinecone documents for namespace names: a name must be
// readable and typeable, so control characters are refused where ids allow them.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
export const namespaceNameSchema = z
  .string({ error: 'must be a string' })
  .max(LIMITS.maxNamespaceLength, { error: `must be at most ${LIMITS.maxNamespaceLength} characters` })
  .regex(PRINTABLE_ASCII, { error: 'must contain only printable ASCII characters (space to ~)', abort: true })
  // "" is the default namespace; a name of spaces only would look like it and is not one.
  .refine((ns) => ns === '' || ns.trim() !== '', { error: 'must not be blank (only spaces)' });
/** Undefined and "__default__" name the default namespace, stored as "". */
export const defaultAlias = (ns: string | undefined): string => (ns === undefined || ns === DEFAULT_NAMESPACE_ALIAS ? '' : ns);
export const namespaceSchema = namespaceNameSchema.optional().transform(defaultAlias);

export const indexNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: `must be 1–${LIMITS.maxIndexNameLength} characters` })
  .max(LIMITS.maxIndexNameLength, { error: `must be at most ${LIMITS.maxIndexNameLength} characters` })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
    error: "must consist of lowercase alphanumeric characters or '-', and must start and end with an alphanumeric character",
  });

/**
 * Whether a string can be stored in a PostgreSQL text or jsonb column (project and key names, tag
 * values): well-formed UTF-16, so it has a UTF-8 form, and without NUL, which neither type holds.
 * A NUL in a tag value answered 500 before this was checked.
 */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\u0000');
}
export const STORABLE_TEXT_MESSAGE = 'must be valid Unicode without NUL characters';

export const paginationTokenSchema = z.string().max(2048, { error: 'must be at most 2048 characters' });

export type SparseValues = z.output<typeof sparseValuesSchema>;
