import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { METRICS } from './metric.ts';
import { indexNameSchema, isStorableText, STORABLE_TEXT_MESSAGE } from './schemas.ts';

/** The schemas of control-plane requests: creating, configuring and naming an index. */

export const metricSchema = z.enum(METRICS, { error: `must be one of ${METRICS.join(', ')}` });

export const dimensionSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(LIMITS.minDimension, { error: `must be ${LIMITS.minDimension}–${LIMITS.maxDimension}` })
  .max(LIMITS.maxDimension, { error: `must be at most ${LIMITS.maxDimension}` });

export const tagsSchema = z.record(
  z
    .string()
    .max(LIMITS.maxTagKeyLength, { error: `tag keys must be at most ${LIMITS.maxTagKeyLength} characters` })
    .regex(/^[A-Za-z0-9_-]+$/, { error: "tag keys may contain only alphanumerics, '_' and '-'" }),
  z
    .string({ error: 'tag values must be strings' })
    .max(LIMITS.maxTagValueLength, { error: `tag values must be at most ${LIMITS.maxTagValueLength} characters` })
    .refine(isStorableText, { error: `tag values ${STORABLE_TEXT_MESSAGE}` }),
  // zod reports a rejected key only as "Invalid key in record": surface the key schema's message.
  { error: (issue) => (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined) },
);

export const deletionProtectionSchema = z.enum(['enabled', 'disabled'], { error: "must be 'enabled' or 'disabled'" });

export const createIndexSchema = z.object({
  name: indexNameSchema,
  dimension: dimensionSchema,
  metric: metricSchema.default('cosine'),
  deletionProtection: deletionProtectionSchema.default('disabled'),
  tags: tagsSchema.optional(),
});
export const configureIndexSchema = z.object({
  name: indexNameSchema,
  deletionProtection: deletionProtectionSchema.optional(),
  /** Tags to merge; a tag set to "" is removed. */
  tags: tagsSchema.optional(),
});
export const indexRefSchema = z.object({ name: indexNameSchema });

export type CreateIndexInput = z.input<typeof createIndexSchema>;
export type ConfigureIndexInput = z.input<typeof configureIndexSchema>;
