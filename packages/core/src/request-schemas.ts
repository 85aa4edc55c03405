import { z } from 'zod';
import { LIMITS } from './limits.ts';
import {
  defaultAlias,
  filterSchema,
  isStorableText,
  indexNameSchema,
  metadataSchema,
  namespaceNameSchema,
  namespaceSchema,
  paginationTokenSchema,
  recordIdSchema,
  refusingProtoKey,
  sparseValuesSchema,
  STORABLE_TEXT_MESSAGE,
  vectorValuesSchema,
} from './schemas.ts';

/** The schemas of data-plane requests: records in a namespace, and namespaces of an index. */

export const vectorRecordSchema = z.object({
  id: recordIdSchema,
  /** Omitted (or empty) on a sparse index, whose records are their sparseValues. */
  values: vectorValuesSchema.optional().transform((values) => values ?? []),
  sparseValues: sparseValuesSchema.optional(),
  metadata: metadataSchema.optional(),
});

const dataRequest = { index: indexNameSchema, namespace: namespaceSchema };

/** Page size of list and list namespaces. */
const listLimitSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(1, { error: `must be 1–${LIMITS.maxListLimit}` })
  .max(LIMITS.maxListLimit, { error: `must be at most ${LIMITS.maxListLimit}` })
  .default(LIMITS.defaultListLimit);

export const upsertSchema = z.object({
  ...dataRequest,
  records: z
    .array(vectorRecordSchema, { error: 'must be an array of records' })
    .min(1, { error: 'must hold at least 1 record' })
    .max(LIMITS.maxUpsertRecords, { error: `must hold at most ${LIMITS.maxUpsertRecords} records per request` }),
});

const idsSchema = z
  .array(recordIdSchema, { error: 'must be an array of ids' })
  .min(1, { error: 'must hold at least 1 id' })
  .max(LIMITS.maxIdsPerRequest, { error: `must hold at most ${LIMITS.maxIdsPerRequest} ids per request` });

export const querySchema = z
  .object({
    ...dataRequest,
    topK: z
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(LIMITS.minTopK, { error: `must be ${LIMITS.minTopK}–${LIMITS.maxTopK}` })
      .max(LIMITS.maxTopK, { error: `must be at most ${LIMITS.maxTopK}` }),
    vector: vectorValuesSchema.optional(),
    /** Sparse part of a hybrid query (dotproduct indexes only). */
    sparseVector: sparseValuesSchema.optional(),
    id: recordIdSchema.optional(),
    filter: filterSchema.optional(),
    includeValues: z.boolean().default(false),
    includeMetadata: z.boolean().default(false),
  })
  .superRefine((q, ctx) => {
    // A sparse index is queried by sparseVector alone; the engine knows which kind the index is.
    if (q.vector !== undefined ? q.id !== undefined : q.id === undefined && q.sparseVector === undefined) {
      ctx.addIssue({ code: 'custom', path: ['vector'], message: 'exactly one of vector (or sparseVector) or id must be given' });
    }
  });

export const fetchSchema = z.object({ ...dataRequest, ids: idsSchema });

export const updateSchema = z
  .object({
    ...dataRequest,
    /** The record to update; or `filter` to update every matching record. */
    id: recordIdSchema.optional(),
    filter: filterSchema.optional(),
    values: vectorValuesSchema.optional(),
    sparseValues: sparseValuesSchema.optional(),
    /** Merged into the record's metadata: given keys are replaced, others kept. */
    setMetadata: metadataSchema.optional(),
  })
  .superRefine((u, ctx) => {
    if ((u.id === undefined) === (u.filter === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'exactly one of id or filter must be given' });
    }
    if (u.values === undefined && u.sparseValues === undefined && u.setMetadata === undefined) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'an update needs values, sparseValues or setMetadata' });
    }
  });

export const fetchByMetadataSchema = z.object({
  ...dataRequest,
  filter: filterSchema,
  limit: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: `must be 1–${LIMITS.maxFetchByMetadataLimit}` })
    .max(LIMITS.maxFetchByMetadataLimit, { error: `must be at most ${LIMITS.maxFetchByMetadataLimit}` })
    .default(LIMITS.defaultFetchByMetadataLimit),
  paginationToken: paginationTokenSchema.optional(),
});

export const deleteSchema = z
  .object({
    ...dataRequest,
    ids: idsSchema.optional(),
    deleteAll: z.boolean().optional(),
    filter: filterSchema.optional(),
  })
  .superRefine((d, ctx) => {
    const given = [d.ids !== undefined, d.deleteAll === true, d.filter !== undefined].filter(Boolean).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', path: ['ids'], message: 'exactly one of ids, deleteAll: true or filter must be given' });
  });

export const listSchema = z.object({
  ...dataRequest,
  prefix: z
    .string()
    .max(LIMITS.maxIdLength, { error: `must be at most ${LIMITS.maxIdLength} characters` })
    .optional(),
  limit: listLimitSchema,
  paginationToken: paginationTokenSchema.optional(),
});

/** Namespaces of an index, one page at a time, in bitwise ("C") order of their names. */
export const listNamespacesSchema = z.object({
  index: indexNameSchema,
  prefix: z
    .string()
    .max(LIMITS.maxNamespaceLength, { error: `must be at most ${LIMITS.maxNamespaceLength} characters` })
    .optional(),
  limit: listLimitSchema,
  paginationToken: paginationTokenSchema.optional(),
});

/** A minimum LSN: a non-negative safe integer (what a JSON number holds exactly). */
const LSN_MESSAGE = `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`;

/**
 * How fresh a read must be (query, fetch, fetch by metadata, list): `consistency` `eventual` (the
 * default: the serving node's state as it is) or `strong` (refreshed from the store first), and
 * `minLsn`, the `lsn` of a write the read must reflect (read-your-writes; 503 when the node cannot
 * reach it in time). The tRPC face takes them as input fields, the REST face as the headers
 * `x-conifer-consistency` and `x-conifer-min-lsn`.
 */
export const readOptionsSchema = z.object({
  consistency: z.enum(['eventual', 'strong'], { error: 'must be "eventual" or "strong"' }).optional(),
  // `int` refuses unsafe integers too; one issue per bad value.
  minLsn: z.number({ error: LSN_MESSAGE }).int({ error: LSN_MESSAGE, abort: true }).min(0, { error: LSN_MESSAGE }).optional(),
});

export const statsSchema = z.object({ index: indexNameSchema });
export const namespaceRefSchema = z.object({ index: indexNameSchema, namespace: namespaceSchema });

/**
 * A namespace's metadata schema, as stored and described: the fields it names, each filterable
 * (indexed) or not. With a schema, only its `filterable: true` fields are indexed and can be
 * filtered on; without one, every field is.
 */
export interface NamespaceMetadataSchema {
  fields: Record<string, { filterable: boolean }>;
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The `schema` of a create-namespace request, Pinecone's `MetadataSchema`: which metadata fields
 * are indexed, `{ "fields": { "genre": { "filterable": true } } }`. `fields` is required and each
 * name must be a valid metadata key. Read as the stored form: a field without `filterable` is not
 * filterable, unknown keys are dropped, and fields are in name order.
 */
export const namespaceFieldsSchema = z
  .object(
    {
      fields: refusingProtoKey(
        z
          .record(z.string(), z.object({ filterable: z.boolean({ error: 'must be a boolean' }).optional() }, { error: 'must be an object' }), {
            error: 'must be an object of fields',
          })
          .superRefine((fields, ctx) => {
            for (const name of Object.keys(fields)) {
              if (name.length === 0) ctx.addIssue({ code: 'custom', message: 'field names must not be empty' });
              else if (name.startsWith('$')) ctx.addIssue({ code: 'custom', path: [name], message: "field names must not start with '$'" });
              else if (!isStorableText(name)) ctx.addIssue({ code: 'custom', path: [name], message: `field names ${STORABLE_TEXT_MESSAGE}` });
            }
          }),
        "field names must not be '__proto__'",
      ),
    },
    { error: 'must be an object' },
  )
  .transform(({ fields }): NamespaceMetadataSchema => ({
    fields: Object.fromEntries(
      Object.keys(fields)
        .sort(byCodeUnits)
        .map((name) => [name, { filterable: fields[name]!.filterable === true }]),
    ),
  }));

/** The fields a namespace's schema indexes (its `filterable: true` ones), in name order: Pinecone's `indexed_fields.fields`. */
export function indexedFieldsOf(schema: NamespaceMetadataSchema): string[] {
  return Object.keys(schema.fields)
    .filter((name) => schema.fields[name]!.filterable)
    .sort(byCodeUnits);
}

/** A namespace to create: a name (not the default namespace's "") and an optional `schema`. */
export const createNamespaceSchema = z.object({
  index: indexNameSchema,
  namespace: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty', abort: true }).pipe(namespaceNameSchema).transform(defaultAlias),
  schema: namespaceFieldsSchema.optional(),
});

export type VectorRecordInput = z.input<typeof vectorRecordSchema>;
export type UpsertRequest = z.output<typeof upsertSchema>;
export type QueryRequest = z.output<typeof querySchema>;
export type FetchRequest = z.output<typeof fetchSchema>;
export type UpdateRequest = z.output<typeof updateSchema>;
export type DeleteRequest = z.output<typeof deleteSchema>;
export type ListRequest = z.output<typeof listSchema>;
export type ListNamespacesRequest = z.output<typeof listNamespacesSchema>;
export type FetchByMetadataRequest = z.output<typeof fetchByMetadataSchema>;
export type ReadOptionsRequest = z.output<typeof readOptionsSchema>;
