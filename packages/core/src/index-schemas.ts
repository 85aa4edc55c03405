import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { METRICS, VECTOR_TYPES, type Metric, type VectorType } from './metric.ts';
import { indexNameSchema, isStorableText, refusingProtoKey, STORABLE_TEXT_MESSAGE } from './schemas.ts';

/** The schemas of control-plane requests: creating, configuring and naming an index. */

export const metricSchema = z.enum(METRICS, { error: `must be one of ${METRICS.join(', ')}` });

export const dimensionSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(LIMITS.minDimension, { error: `must be ${LIMITS.minDimension}–${LIMITS.maxDimension}` })
  .max(LIMITS.maxDimension, { error: `must be at most ${LIMITS.maxDimension}` });

/**
 * An index's tags. An own `__proto__` key (JSON.parse makes one; it passes the key pattern) is
 * refused by name: the record schema alone would drop it, acknowledging a tag it never stored.
 */
export const tagsSchema = refusingProtoKey(
  z.record(
    z
      .string()
      .max(LIMITS.maxTagKeyLength, { error: `tag keys must be at most ${LIMITS.maxTagKeyLength} characters` })
      .regex(/^[A-Za-z0-9_-]+$/, { error: "tag keys may contain only alphanumerics, '_' and '-'" }),
    z
      .string({ error: 'tag values must be strings' })
      .max(LIMITS.maxTagValueLength, { error: `tag values must be at most ${LIMITS.maxTagValueLength} characters` })
      .refine(isStorableText, { error: `tag values ${STORABLE_TEXT_MESSAGE}` }),
    {
      error: (issue) => {
        // zod reports a rejected key only as "Invalid key in record": surface the key schema's message.
        if (issue.code === 'invalid_key') return issue.issues[0]?.message;
        return issue.code === 'invalid_type' ? 'must be an object of strings' : undefined;
      },
    },
  ),
  "tag keys must not be '__proto__'",
);

export const deletionProtectionSchema = z.enum(['enabled', 'disabled'], { error: "must be 'enabled' or 'disabled'" });

export const vectorTypeSchema = z.enum(VECTOR_TYPES, { error: `must be one of ${VECTOR_TYPES.join(', ')}` });

/** The fields of a create-index request, before the checks that relate them (`checkIndexKind`). */
export const createIndexFields = z.object({
  name: indexNameSchema,
  /** Required for a dense index; a sparse index has none. */
  dimension: dimensionSchema.optional(),
  /** Default cosine (dense) or dotproduct (sparse, the only metric it takes). */
  metric: metricSchema.optional(),
  vectorType: vectorTypeSchema.default('dense'),
  deletionProtection: deletionProtectionSchema.default('disabled'),
  tags: tagsSchema.optional(),
});

/** A dense index needs a dimension; a sparse one has none and scores by dotproduct. */
export function checkIndexKind(input: { dimension?: number | undefined; metric?: Metric | undefined; vectorType: VectorType }, ctx: z.RefinementCtx): void {
  if (input.vectorType === 'dense' && input.dimension === undefined) {
    ctx.addIssue({ code: 'custom', path: ['dimension'], message: 'required for a dense index' });
  }
  if (input.vectorType === 'sparse') {
    if (input.dimension !== undefined) ctx.addIssue({ code: 'custom', path: ['dimension'], message: 'a sparse index has no dimension; omit it' });
    if (input.metric !== undefined && input.metric !== 'dotproduct') {
      ctx.addIssue({ code: 'custom', path: ['metric'], message: `a sparse index scores by dotproduct only; got ${input.metric}` });
    }
  }
}

export const createIndexSchema = createIndexFields.superRefine(checkIndexKind);

/** A checked create request's vector shape with its defaults: dimension 0 stands for "sparse, none". */
export function indexShape(input: { dimension?: number | undefined; metric?: Metric | undefined; vectorType: VectorType }): {
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
} {
  const sparse = input.vectorType === 'sparse';
  return { dimension: sparse ? 0 : input.dimension!, metric: input.metric ?? (sparse ? 'dotproduct' : 'cosine'), vectorType: input.vectorType };
}
export const configureIndexSchema = z.object({
  name: indexNameSchema,
  deletionProtection: deletionProtectionSchema.optional(),
  /** Tags to merge; a tag set to "" is removed. */
  tags: tagsSchema.optional(),
});
export const indexRefSchema = z.object({ name: indexNameSchema });

export type CreateIndexInput = z.input<typeof createIndexSchema>;
export type ConfigureIndexInput = z.input<typeof configureIndexSchema>;
