/**
 * Part 2 of the cluster benchmark: writer failover. Client loops upsert one record at a time into
 * namespace `failover` through gateway A, without pause. Each run: find the writer that owns the
 * namespace (observed: the writer whose node-internal data calls grow while the loops write; and
 * computed: the rendezvous winner among live writers, which should agree), SIGKILL it, and time
 * from the kill to the first acknowledgement of a write sent after the kill. Then start a
 * replacement writer (pinned like the others) and wait until the membership shows it, so two
 * writers are alive at every kill. At the end every acknowledged id is fetched back through
 * gateway B (strong reads): an acknowledged write that is missing is lost.
 */
import { namespaceRoutingKey, rank } from '@conifer/cluster';
import type { JsonClient } from './http-client.ts';
import { metricSum, scrape, sleep, type ClusterNode, type LocalCluster } from './cluster-harness.ts';
import { Errors } from './cluster-load.ts';
import { percentile } from '@conifer/core';

type Log = (...parts: unknown[]) => void;

export const FAILOVER = 'failover';
const INTERNAL_DATA = 'procedure="/internal/v1/data"';

export interface FailoverOptions {
  cluster: LocalCluster;
  host: string;
  index: string;
  indexId: string;
  gatewayA: JsonClient;
  gatewayB: JsonClient;
  dimension: number;
  runs: number;
  /** Client loops writing at once. */
  writers: number;
  /** CPU the replacement writers are pinned to. */
  writerCpu: number | undefined;
  /** Extra settings of the replacement writers (the same as the first ones). */
  writerEnv: Record<string, string>;
  log: Log;
}

export interface FailoverRun {
  victim: string;
  /** Whether the rendezvous winner among live writers was the writer observed serving the namespace. */
  rankAgreed: boolean;
  failoverMs: number;
  /** Writes refused (any error) between the kill and the first acknowledgement after it. */
  refusedMeanwhile: number;
  /** Logged writes not yet flushed to a slab just before the kill (what the next owner replays). */
  unflushedLsns: number;
}

export interface FailoverResult {
  runs: FailoverRun[];
  maxMs: number;
  medianMs: number;
  p90Ms: number;
  acknowledged: number;
  lost: number;
  lostSamples: string[];
  errors: ReturnType<Errors['toJSON']>;
  clientLoops: number;
}

interface Ack {
  id: string;
  sentAt: number;
  ackedAt: number;
}

export async function failover(options: FailoverOptions): Promise<FailoverResult> {
  const { cluster, host, gatewayA, gatewayB, log } = options;
  const acks: Ack[] = [];
  const errors = new Errors();
  const errorTimes: number[] = [];
  let stop = false;
  let seq = 0;
  const values = `[${Array.from({ length: options.dimension }, (_, d) => (d % 7) / 7).join(',')}]`;
  const loops = Array.from({ length: options.writers }, async () => {
    while (!stop) {
      const id = `f${seq++}`;
      const sentAt = performance.now();
      try {
        await gatewayA.call('POST', `${host}/vectors/upsert`, `{"namespace":"${FAILOVER}","vectors":[{"id":"${id}","values":${values}}]}`);
        acks.push({ id, sentAt, ackedAt: performance.now() });
      } catch (err) {
        errors.addError(err);
        errorTimes.push(performance.now());
        await sleep(20);
      }
    }
  });
  const runs: FailoverRun[] = [];
  try {
    for (let r = 0; r < options.runs; r++) {
      await cluster.awaitMembership(gatewayA, 'writer');
      await cluster.resolveIds(gatewayA);
      // Writes flowing on the current owner before the kill.
      const since = performance.now();
      while (!acks.some((a) => a.sentAt > since)) {
        if (performance.now() - since > 30_000) throw new Error('failover: no write acknowledged for 30 s before a kill');
        await sleep(20);
      }
      const alive = cluster.running('writer');
      const observed = await observeOwner(alive);
      const ranked = rank(
        namespaceRoutingKey(options.indexId, FAILOVER),
        alive.map((w) => ({ id: w.id!, node: w })),
      )[0]!.node;
      const victim = observed ?? ranked;
      const internals = (await gatewayA.call(
        'GET',
        `/trpc/namespaces.internals?input=${encodeURIComponent(JSON.stringify({ index: options.index, namespace: FAILOVER }))}`,
      )) as {
        result: { data: { writtenLsn: number; flushedLsn: number } };
      };
      const unflushedLsns = internals.result.data.writtenLsn - internals.result.data.flushedLsn;
      const killedAt = performance.now();
      await cluster.kill(victim);
      let failoverMs = Infinity;
      for (;;) {
        const after = acks.filter((a) => a.sentAt > killedAt);
        if (after.length > 0) {
          failoverMs = Math.min(...after.map((a) => a.ackedAt)) - killedAt;
          break;
        }
        if (performance.now() - killedAt > 30_000) break;
        await sleep(5);
      }
      const refusedMeanwhile = errorTimes.filter((t) => t > killedAt && t < killedAt + failoverMs).length;
      runs.push({
        victim: victim.name,
        rankAgreed: observed === undefined || observed === ranked,
        failoverMs: Math.round(failoverMs),
        refusedMeanwhile,
        unflushedLsns,
      });
      log(
        `failover run ${r + 1}/${options.runs}: killed ${victim.name} (${unflushedLsns} logged writes unflushed); first write sent after the kill acknowledged in ${Math.round(failoverMs)} ms` +
          ` (${refusedMeanwhile} refused meanwhile${observed !== undefined && observed !== ranked ? '; the rendezvous winner was another writer' : ''})`,
      );
      // A replacement, so two writers are alive at the next kill.
      await cluster.start('writer', 'writer', options.writerCpu, options.writerEnv);
    }
    await sleep(500);
  } finally {
    stop = true;
    await Promise.all(loops);
  }

  log(`failover: fetching the ${acks.length} acknowledged ids back through gateway B (strong reads)`);
  const missing: string[] = [];
  const ids = acks.map((a) => a.id);
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const path = `${host}/vectors/fetch?${batch.map((id) => `ids=${id}`).join('&')}&namespace=${FAILOVER}`;
    const res = (await gatewayB.call('GET', path, undefined, { 'x-conifer-consistency': 'strong' })) as { vectors: Record<string, unknown> };
    for (const id of batch) if (!(id in res.vectors)) missing.push(id);
  }
  const times = runs.map((r) => r.failoverMs).sort((a, b) => a - b);
  return {
    runs,
    maxMs: times.at(-1) ?? NaN,
    medianMs: percentile(times, 50),
    p90Ms: percentile(times, 90),
    acknowledged: acks.length,
    lost: missing.length,
    lostSamples: missing.slice(0, 10),
    errors: errors.toJSON(),
    clientLoops: options.writers,
  };
}

/** The writer whose node-internal data calls grow over 300 ms of writes (undefined if not exactly one). */
async function observeOwner(writers: ClusterNode[]): Promise<ClusterNode | undefined> {
  const count = async (w: ClusterNode) => metricSum(await scrape(w.url), 'conifer_requests_total', [INTERNAL_DATA]);
  const before = await Promise.all(writers.map(count));
  await sleep(300);
  const after = await Promise.all(writers.map(count));
  const busy = writers.filter((_, i) => after[i]! > before[i]!);
  return busy.length === 1 ? busy[0] : undefined;
}
