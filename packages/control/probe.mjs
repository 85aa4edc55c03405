import { PGlite } from '@electric-sql/pglite';
let t = Date.now();
const a = await PGlite.create(); console.log('first', Date.now() - t);
for (let i = 0; i < 3; i++) { t = Date.now(); const b = await PGlite.create(); console.log('next', Date.now() - t); await b.close(); }
t = Date.now(); const dump = await a.dumpDataDir('none'); console.log('dump', Date.now() - t, dump.size);
for (let i = 0; i < 3; i++) { t = Date.now(); const c = await PGlite.create({ loadDataDir: dump }); console.log('from dump', Date.now() - t); await c.close(); }
if (a.clone) { t = Date.now(); const c = await a.clone(); console.log('clone', Date.now() - t); }
