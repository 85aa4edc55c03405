/**
 * Creates a PGlite data directory (initdb) and exits. Run as a child process by `openDatabase` for
 * a directory that holds no database yet: initdb grows PGlite's WebAssembly memory to a few
 * hundred MiB that it never gives back. In a process of its own, all of it goes back to the system
 * when the process ends (a worker thread's freed memory stays in the server's allocator for a
 * while), so the server starts at the size of a restart, which is what its memory budget sets
 * aside for the process itself.
 */
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: pglite-init.ts <data directory>');
const pglite = await PGlite.create(dataDir);
await pglite.close();
