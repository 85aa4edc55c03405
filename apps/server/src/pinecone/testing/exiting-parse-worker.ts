import { parentPort } from 'node:worker_threads';

/*
 * A parser thread that dies on its first body: the fault a real parser thread cannot be made to
 * produce on demand (an out-of-memory kill, a native crash), for upsert-parser.test.ts.
 */
parentPort!.on('message', () => process.exit(3));
