import { InvalidArgumentError, namespaceSchema, upsertSchema, type UpsertRequest } from '@conifer/core';
import { malformedJsonMessage, type UpsertInput } from '@conifer/api';
import { upsertBodyBuffers } from './body-buffers.ts';
import { parseWith, type FieldRenames } from './errors.ts';
import { jsonObject } from './plugin-support.ts';
import { topLevelFieldOfChunks } from './top-level-field.ts';
import { sharedUpsertParser, type ChunksRead } from './upsert-parser.ts';

/**
 * A Pinecone upsert body, read the same way wherever it is read: by the REST API of the process
 * that received it, or by the cluster writer a gateway forwarded it to unparsed.
 */

/** An upsert's `records` (the service layer's name) are `vectors` on the wire. */
export const UPSERT_FIELDS: FieldRenames = { records: 'vectors' };

/**
 * A request body's bytes as the JSON object it must be: empty reads as `{}`; malformed JSON and
 * anything but an object (a literal `null` included) are 400s, worded as for every other body.
 */
export function jsonObjectOf(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError(malformedJsonMessage((error as Error).message));
  }
  return jsonObject(body);
}

/** The service layer's request for an upsert body; a 400 names the fields as the wire does. */
export function upsertRequestOf(index: string, body: Record<string, unknown>): UpsertRequest {
  return parseWith(upsertSchema, { index, namespace: body.namespace, records: body.vectors }, UPSERT_FIELDS);
}

/**
 * The service layer's upsert for an upsert body's bytes: read straight into float32 when the body
 * has the usual shape (a large one on a parser thread), else (and for every error) parsed and
 * validated the general way.
 */
export async function upsertInputOf(index: string, bytes: Uint8Array): Promise<UpsertInput> {
  // A large body is read on a parser thread (upsert-parser.ts), off the event loop.
  const fast = await sharedUpsertParser().parse(bytes);
  return inputOf(index, fast ? { fast } : { bytes });
}

/** The fast reader's records, or (where it gave up) the body read and validated the general way. */
function inputOf(index: string, read: ChunksRead): UpsertInput {
  return read.fast ? { index, namespace: read.fast.namespace, records: read.fast.records } : upsertRequestOf(index, jsonObjectOf(read.bytes));
}

/**
 * {@link upsertInputOf} for a body still in the chunks it arrived in. A large body's chunks are
 * moved to a parser thread, which joins them there (the caller must not use them again); other
 * bodies are joined here into a lent buffer (body-buffers.ts).
 */
export async function upsertInputOfChunks(index: string, chunks: readonly Buffer[], length: number): Promise<UpsertInput> {
  const parser = sharedUpsertParser();
  if (!parser.takesChunks(chunks, length)) return upsertBodyBuffers.withJoined(chunks, length, (bytes) => upsertInputOf(index, bytes));
  return inputOf(index, await parser.parseChunks(chunks, length));
}

/**
 * The namespace an upsert body names, read from its text without parsing its vectors ("" for the
 * default namespace, as the schema maps it); undefined when that cannot be told cheaply or the
 * value is not a valid namespace — the body is then parsed, and its errors reported, as usual.
 */
export function routingNamespaceOf(chunks: readonly Buffer[], length: number): string | undefined {
  const field = topLevelFieldOfChunks(chunks, length, 'namespace');
  if (field.kind !== 'absent' && field.kind !== 'string') return undefined;
  const parsed = namespaceSchema.safeParse(field.kind === 'string' ? field.value : undefined);
  return parsed.success ? parsed.data : undefined;
}
