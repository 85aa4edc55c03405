/**
 * Child process for the crash test: opens an engine over a local-disk store and upserts forever
 * from several concurrent writers, printing "sent <version> 0 <id> <ns>" before and
 * "ack <version> <lsn> <id> <ns>" after each acknowledged write.
 * The parent kills it with SIGKILL at a moment of its choosing and checks what survived.
 *
 * Small memtable and compaction thresholds make flushes, compactions and GC happen constantly,
 * so the kill lands in the middle of them too.
 */
import { FsObjectStore } from '@conifer/storage';
import { Engine } from '../engine.ts';
import type { RecordInput } from '../data-plane.ts';

const [dataDir, versionBase = '0'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: crash-writer.ts <dataDir>');
const engine = new Engine({
  store: new FsObjectStore(dataDir),
  config: { memtableMaxRecords: 40, gcGraceMs: 0, tickMs: 50, memtableMaxAgeMs: 200, compaction: { trigger: 2, maxMerge: 4 } },
});
const index = { id: 'idx_crash', dimension: 4, metric: 'euclidean' as const };
const WRITERS = 8;
const HOT_IDS = ['hot-0', 'hot-1', 'hot-2'];
// Versions keep growing across runs on the same directory, so an old value can never pass for a new one.
let version = Number(versionBase);

async function writer(w: number): Promise<never> {
  for (let seq = 0; ; seq++) {
    const v = ++version;
    const hot = HOT_IDS[seq % HOT_IDS.length]!;
    const records: RecordInput[] = [
      { id: `w${w}-${seq}`, values: [v, w, seq, 1], metadata: { writer: w, version: v } },
      { id: hot, values: [v, w, seq, 2], metadata: { version: v } },
    ];
    const ns = seq % 2 === 0 ? '' : 'second';
    process.stdout.write(records.map((r) => `sent ${v} 0 ${r.id} ${ns}\n`).join(''));
    const { lsn } = await engine.upsert(index, ns, records);
    process.stdout.write(records.map((r) => `ack ${v} ${lsn} ${r.id} ${ns}\n`).join(''));
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
