import { parentPort } from 'node:worker_threads';

/* A write thread that dies on its first job (fs-link-threads tests): a fault no real disk gives on demand. */
parentPort!.once('message', () => process.exit(3));
