import type { ForwardedUpsertCall, ForwardedUpsertResult, LocalDataPlane } from '@conifer/cluster';
import { recordsBytes } from '@conifer/api';
import type { RawBody } from './pinecone/plugin-support.ts';
import { UPSERT_FIELDS, upsertInputOfChunks } from './pinecone/upsert-body.ts';
import { withWireFields } from './pinecone/errors.ts';

/**
 * A writer applies an upsert a gateway forwarded unparsed: it reads and validates the body exactly
 * as the gateway's REST API would have (the same 400s, naming `vectors`), and applies it only when
 * the body names the namespace it was routed by — otherwise it answers which namespace that is, so
 * the gateway routes it again. Safety never rests on the gateway's reading: any writer may write
 * any namespace (the epoch in the store fences it); a misrouted write would only move ownership.
 */
export async function applyForwardedUpsert(writer: LocalDataPlane, call: ForwardedUpsertCall, body: RawBody): Promise<ForwardedUpsertResult> {
  const input = await upsertInputOfChunks(call.indexName, body.chunks, body.length);
  if (input.namespace !== call.namespace) return { misroutedTo: input.namespace };
  const result = await writer.upsert(call.index, input.namespace, input.records).catch((error: unknown) => {
    throw withWireFields(error, UPSERT_FIELDS);
  });
  return { upsertedCount: result.upsertedCount, lsn: result.lsn, recordBytes: recordsBytes(input.records) };
}
