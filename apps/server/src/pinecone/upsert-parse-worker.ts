import { parentPort } from 'node:worker_threads';
import { fastUpsertOf } from './upsert-fast-path.ts';
import type { ParseReply, ParseRequest } from './upsert-parser.ts';

/*
 * A worker thread of the upsert parser pool (upsert-parser.ts): reads upsert bodies with the fast
 * reader, off the event loop. The records' values come back in the one buffer they were read into
 * (transferred, not copied), with each record's place in it.
 */
parentPort!.on('message', ({ id, bytes }: ParseRequest) => {
  let reply: ParseReply;
  try {
    const fast = fastUpsertOf(bytes);
    if (fast === undefined) {
      reply = { id, parsed: undefined };
    } else {
      // The fast reader reads every record's values into views of one Float32Array.
      const buffer = (fast.records[0]!.values as Float32Array).buffer as ArrayBuffer;
      const bounds = new Int32Array(2 * fast.records.length);
      const metadata = fast.records.map((r, i) => {
        const values = r.values as Float32Array;
        bounds[2 * i] = values.byteOffset / Float32Array.BYTES_PER_ELEMENT;
        bounds[2 * i + 1] = values.length;
        return r.metadata;
      });
      const parsed = { namespace: fast.namespace, ids: fast.records.map((r) => r.id), buffer, bounds, metadata };
      parentPort!.postMessage({ id, parsed } satisfies ParseReply, [buffer, bounds.buffer]);
      return;
    }
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
