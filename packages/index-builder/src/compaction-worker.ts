/**
 * Entry point of a compaction worker thread (see compactor.ts): runs one job per message and
 * answers with the output slab, whose buffer is transferred (not copied) back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setRunOnCallingThread, setThreads, trimNativeHeap } from '@conifer/faiss';
import { isShared } from '@conifer/slab';
import { runCompactionJob, type CompactionJob } from './compaction-job.ts';
import { niceCurrentThread } from './thread-priority.ts';

export interface WorkerRequest {
  jobId: number;
  job: CompactionJob;
  /** OpenMP threads faiss may use for training and adding in this job. */
  buildThreads: number;
}

export type WorkerReply =
  | { jobId: number; ok: true; output: Awaited<ReturnType<typeof runCompactionJob>> }
  | { jobId: number; ok: false; error: { name: string; message: string; stack?: string | undefined } };

const port = parentPort;
if (!port) throw new Error('compaction-worker.ts must run in a worker thread');
// Background priority for everything this thread does (see thread-priority.ts), faiss's training,
// adding and calibration searches included: they run on this thread rather than on the libuv pool,
// whose threads serve the event loop's log writes and keep their normal priority.
niceCurrentThread((workerData as { niceness: number }).niceness);
setRunOnCallingThread(true);

port.on('message', (request: WorkerRequest) => {
  void (async () => {
    try {
      setThreads(request.buildThreads);
      const output = await runCompactionJob(request.job);
      const reply: WorkerReply = { jobId: request.jobId, ok: true, output };
      // A slab built here is in shared memory already (see shared-bytes.ts): nothing to transfer.
      port.postMessage(reply, output.bytes.byteLength > 0 && !isShared(output.bytes) ? [output.bytes.buffer as ArrayBuffer] : []);
      // What the build freed goes back to the OS now, not when this worker next allocates.
      trimNativeHeap();
    } catch (err) {
      const error = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { name: 'Error', message: String(err) };
      const reply: WorkerReply = { jobId: request.jobId, ok: false, error };
      port.postMessage(reply);
    }
  })();
});
