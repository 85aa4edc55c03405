import { parentPort } from 'node:worker_threads';
import { packReadBody, readUpsertBody } from './upsert-fast-path.ts';
import type { ParseReply, ParseRequest } from './upsert-parser.ts';

/*
 * A worker thread of the upsert parser pool (upsert-parser.ts): reads upsert bodies with the fast
 * reader, off the event loop. The rows come back packed (`packReadBody`) with the one buffer their
 * values were read into (transferred, not copied). A body sent as chunks is joined here, into a
 * buffer this thread reuses: the reader copies everything it keeps, so nothing read points into it.
 */
let joined = new Uint8Array(0);

function join(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (joined.length < length) joined = new Uint8Array(2 ** Math.ceil(Math.log2(length)));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  if (at !== length) throw new Error(`upsert body chunks hold ${at} bytes, not ${length}`);
  return joined.subarray(0, length);
}

parentPort!.on('message', (request: ParseRequest) => {
  const { id } = request;
  let reply: ParseReply;
  try {
    const bytes = request.chunks ? join(request.chunks, request.length) : request.bytes;
    const body = readUpsertBody(bytes);
    if (body !== undefined) {
      parentPort!.postMessage({ id, body: packReadBody(body) } satisfies ParseReply, [body.floats.buffer as ArrayBuffer]);
      return;
    }
    if (request.chunks) {
      // Not the fast shape: the caller reads the body the general way, from a copy of its own.
      const copy = bytes.slice();
      parentPort!.postMessage({ id, body: undefined, bytes: copy } satisfies ParseReply, [copy.buffer]);
      return;
    }
    reply = { id, body: undefined };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
