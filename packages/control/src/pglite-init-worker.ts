/**
 * Creates a PGlite data directory (initdb) and exits. Run on a worker thread by `openDatabase` for
 * a directory that holds no database yet: initdb grows PGlite's WebAssembly memory to a few
 * hundred MiB that it never gives back, so doing it here, in an isolate that then ends, leaves the
 * server's own PGlite at the size of a restart.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const pglite = await PGlite.create(workerData as string);
await pglite.close();
parentPort!.postMessage('created');
