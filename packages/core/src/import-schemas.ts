import { z } from 'zod';
import { indexNameSchema, paginationTokenSchema } from './schemas.ts';

/**
 * The schemas of bulk-import requests on the native API (tRPC `imports.*`, the SDK's
 * `startImport`, `listImports`, `describeImport`, `cancelImport`, the console's form): the same
 * limits the REST routes check (`/bulk/imports`). The service checks the rest (the URI's scheme,
 * whether `file://` is allowed).
 */

/** Longest import URI and id Pinecone's spec allows. */
export const MAX_IMPORT_URI_LENGTH = 1500;
export const MAX_IMPORT_ID_LENGTH = 1000;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** Printable ASCII: what import ids are made of (a NUL would reach the database). */
const PRINTABLE_ID = /^[\x20-\x7e]+$/;

export const importUriSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must be a non-empty string' })
  .max(MAX_IMPORT_URI_LENGTH, { error: `must be at most ${MAX_IMPORT_URI_LENGTH} characters` })
  .refine((uri) => !CONTROL_CHARACTERS.test(uri), { error: 'must not contain control characters' });

export const importErrorModeSchema = z.enum(['abort', 'continue'], { error: 'must be "abort" or "continue"' });

export const importIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must be a non-empty string' })
  .max(MAX_IMPORT_ID_LENGTH, { error: `must be at most ${MAX_IMPORT_ID_LENGTH} characters` })
  .regex(PRINTABLE_ID, { error: `must be 1–${MAX_IMPORT_ID_LENGTH} printable ASCII characters` });

/** Start an import: the index, the URI of its Parquet files and `errorMode`, `'continue'` (the default) or `'abort'`. */
export const startImportSchema = z.object({ index: indexNameSchema, uri: importUriSchema, errorMode: importErrorModeSchema.optional() });

const IMPORT_LIMIT_MESSAGE = 'must be an integer 1–100';
/** One page of an index's imports, oldest first (`limit` 1–100, default 100). */
export const listImportsSchema = z.object({
  index: indexNameSchema,
  limit: z
    .number({ error: IMPORT_LIMIT_MESSAGE })
    .int({ error: IMPORT_LIMIT_MESSAGE })
    .min(1, { error: IMPORT_LIMIT_MESSAGE })
    .max(100, { error: IMPORT_LIMIT_MESSAGE })
    .optional(),
  paginationToken: paginationTokenSchema.optional(),
});

/** One import of an index (describe, cancel). */
export const importRefSchema = z.object({ index: indexNameSchema, id: importIdSchema });

export type StartImportRequest = z.output<typeof startImportSchema>;
export type ListImportsRequest = z.output<typeof listImportsSchema>;
export type ImportRef = z.output<typeof importRefSchema>;
