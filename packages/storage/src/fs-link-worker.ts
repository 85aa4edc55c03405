import { parentPort } from 'node:worker_threads';
import { LINK_THREAD_READY, linkDurablySync, SyncDurableDirs, type LinkJob, type LinkOutcome } from './fs-link-sync.ts';

/*
 * A write thread of FsObjectStore (fs-link-threads.ts): runs each create-if-absent it is handed as
 * one synchronous sequence and answers with its outcome.
 */

/** A job as posted to the thread. */
export interface LinkRequest {
  id: number;
  job: LinkJob;
}

export interface LinkReply {
  id: number;
  outcome: LinkOutcome;
}

const dirs = new SyncDurableDirs();

parentPort!.on('message', ({ id, job }: LinkRequest) => {
  parentPort!.postMessage({ id, outcome: linkDurablySync(job, dirs) } satisfies LinkReply);
});

parentPort!.postMessage(LINK_THREAD_READY);
