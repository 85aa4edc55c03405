import { parentPort } from 'node:worker_threads';
import { packReadBody, readUpsertBody } from './upsert-fast-path.ts';
import type { ParseReply, ParseRequest } from './upsert-parser.ts';

/*
 * A worker thread of the upsert parser pool (upsert-parser.ts): reads upsert bodies with the fast
 * reader, off the event loop. The rows come back packed (`packReadBody`) with the one buffer their
 * values were read into (transferred, not copied).
 */
parentPort!.on('message', ({ id, bytes }: ParseRequest) => {
  let reply: ParseReply;
  try {
    const body = readUpsertBody(bytes);
    if (body !== undefined) {
      parentPort!.postMessage({ id, body: packReadBody(body) } satisfies ParseReply, [body.floats.buffer as ArrayBuffer]);
      return;
    }
    reply = { id, body: undefined };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
