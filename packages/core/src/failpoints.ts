/**
 * Crash failpoints for durability tests. `CONIFER_FAILPOINTS="flush:after-slab@3,gc:mid"` makes
 * the process SIGKILL itself the 3rd time it reaches `flush:after-slab` and the first time it
 * reaches `gc:mid` — the only way to land a kill -9 exactly between two steps of a protocol. With
 * the variable unset (production) a failpoint costs one Map lookup.
 *
 * Points: log:after-append (durable, not yet applied or acknowledged), flush:after-slab,
 * flush:after-manifest, compaction:after-slab, compaction:after-manifest, gc:mid (expired
 * manifests deleted, orphan slabs not yet); on an indexer node, indexer:before-complete (output
 * stored, job not yet reported).
 */
/** Every failpoint of the product, in protocol order. */
export const FAILPOINTS = [
  'log:after-append',
  'flush:after-slab',
  'flush:after-manifest',
  'compaction:after-slab',
  'compaction:after-manifest',
  'gc:mid',
] as const;

/** Failpoints of the indexer role (a cluster's index builder), apart: the simulation runs no indexer. */
export const INDEXER_FAILPOINTS = ['indexer:before-complete'] as const;

const armed = parse(process.env['CONIFER_FAILPOINTS'] ?? '');
const hits = new Map<string, number>();
let handler: ((name: string) => void) | undefined;

/**
 * Sends every failpoint to `onFailpoint` instead (the deterministic simulation crashes its
 * simulated nodes there); `undefined` restores the environment's behaviour.
 */
export function setFailpointHandler(onFailpoint: ((name: string) => void) | undefined): void {
  handler = onFailpoint;
}

function parse(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, count] = part.split('@');
    out.set(name!, count ? Number(count) : 1);
  }
  return out;
}

export function failpoint(name: string): void {
  if (handler !== undefined) {
    handler(name);
    return;
  }
  if (armed.size === 0) return;
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === at) {
    process.stderr.write(`failpoint ${name}@${n}: SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
