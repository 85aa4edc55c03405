import { failpoint, type Metric } from '@conifer/core';
import { MERGED_ROW_BYTES, nextCompaction, type Compactor, type ScheduledCompaction } from '@conifer/index-builder';
import type { SlabReader } from '@conifer/slab';
import type { Logger } from 'pino';
import type { EngineConfig } from './config.ts';
import type { ManifestState } from './manifest-state.ts';
import type { NamespaceStats } from './namespace-stats.ts';
import { NoIndexerError, type RemoteCompactions } from './remote-compactions.ts';
import type { SlabWriter, WrittenSlab } from './slab-writer.ts';

export interface CompactionSchedulerOptions {
  name: string;
  dimension: number;
  metric: Metric;
  config: EngineConfig;
  logger: Logger;
  /** Runs merges and ANN builds off the event loop. */
  compactor: Compactor;
  /** Indexer nodes that build compactions instead, when the cluster has any live. */
  remote?: RemoteCompactions | undefined;
  /** The index id and storage prefix of the namespace (what a remote build needs). */
  indexId: string;
  prefix: string;
  slabs: SlabWriter;
  manifest: ManifestState;
  stats: NamespaceStats;
  /** True once the namespace is closing: no new compaction starts. */
  closing: () => boolean;
  /** After each compaction has committed (GC may follow). */
  onCompacted: () => void;
  /**
   * Called as a compaction starts here, once its working memory is counted and before it reads its
   * inputs: the node's memory trim, so promoted vectors make room now, not at the next tick when the
   * merge's copies of its inputs are already allocated beside them (and the engine collects what
   * the trim shed: see ReleasedMemory.collect).
   */
  makeRoom?: (() => void) | undefined;
}

/**
 * Runs a namespace's compactions, one at a time, until none is due: merge (in a worker, through
 * the compactor), store the output, and commit a manifest that replaces the inputs with it — unless
 * the inputs moved meanwhile (a deleteAll flush dropped them), in which case the output is left to
 * GC.
 */
export class CompactionScheduler {
  readonly #options: CompactionSchedulerOptions;
  #loop: Promise<void> | undefined;
  #workingBytes = 0;

  constructor(options: CompactionSchedulerOptions) {
    this.#options = options;
  }

  /** Memory the compaction running in this process holds beside the slabs, estimated (0 when none runs here). */
  get workingBytes(): number {
    return this.#workingBytes;
  }

  /** A compaction is running, or one is due (indexing flat slabs included). */
  get pending(): boolean {
    return this.#loop !== undefined || this.#next() !== null;
  }

  /** The compactions running now, if any. */
  get running(): Promise<void> | undefined {
    return this.#loop;
  }

  /** Starts the compaction loop if a compaction is due (a merge, or indexing a flat slab too large to scan). */
  schedule(): void {
    if (this.#options.closing() || this.#loop) return;
    if (!this.#next()) return;
    this.#loop = this.#run()
      .catch((err) => this.#options.logger.error({ err, namespace: this.#options.name }, 'compaction failed'))
      .finally(() => {
        this.#loop = undefined;
      });
  }

  #next(): ScheduledCompaction | null {
    const { manifest, config, dimension } = this.#options;
    return nextCompaction(manifest.current, (id) => manifest.reader(id), { compaction: config.compaction, exactBudget: config.exactBudget, dimension });
  }

  async #run(): Promise<void> {
    const { manifest, slabs, stats } = this.#options;
    for (;;) {
      if (this.#options.closing()) return;
      const plan = this.#next();
      if (!plan) return;
      const built = await this.#compact(plan);
      // Until the manifest lists it, the output's reader is counted here, not among the slabs: a
      // trim meanwhile (the commit may wait for a flush) would otherwise promote into its room.
      this.#workingBytes = built?.reader.memoryBytes ?? 0;
      let committed: boolean;
      try {
        failpoint('compaction:after-slab');
        committed = await manifest.lock
          .run(async () => {
            const base = manifest.current;
            const start = base.slabs.findIndex((s) => s.id === plan.inputs[0]!.id);
            const stillThere = start !== -1 && plan.inputs.every((ref, i) => base.slabs[start + i]?.id === ref.id);
            // The inputs moved (a deleteAll flush dropped them): give up; GC removes the output.
            if (!stillThere || (plan.dropTombstones && start !== 0)) return false;
            const next = await manifest.commit(base, {
              flushedLsn: base.flushedLsn,
              slabs: [...base.slabs.slice(0, start), ...(built ? [built.ref] : []), ...base.slabs.slice(start + plan.inputs.length)],
            });
            failpoint('compaction:after-manifest');
            await manifest.install(next, built ? new Map([[built.ref.id, built.reader]]) : new Map());
            return true;
          })
          .finally(() => slabs.release(built));
      } finally {
        this.#workingBytes = 0;
      }
      if (!committed) return;
      stats.compactions++;
      this.#options.onCompacted();
    }
  }

  /** Merges a compaction's inputs into one slab (here, or on an indexer node) and stores it. */
  async #compact(plan: ScheduledCompaction): Promise<WrittenSlab | undefined> {
    const { remote } = this.#options;
    if (remote && (await remote.available())) {
      try {
        return await this.#compactRemotely(remote, plan);
      } catch (err) {
        if (!(err instanceof NoIndexerError)) throw err;
        this.#options.logger.warn({ namespace: this.#options.name }, 'no indexer is live; compacting here');
      }
    }
    return this.#compactHere(plan);
  }

  /** Queues the build for an indexer and loads the slab it stored. */
  async #compactRemotely(remote: RemoteCompactions, plan: ScheduledCompaction): Promise<WrittenSlab | undefined> {
    const { manifest, slabs, config, dimension, metric, name, indexId, prefix, closing } = this.#options;
    const outputId = slabs.reserve();
    try {
      const stored = await remote.build(
        {
          indexId,
          namespace: name,
          prefix,
          inputs: plan.inputs.map((ref) => ref.id),
          outputId,
          dropTombstones: plan.dropTombstones,
          dimension,
          metric,
          level: plan.outputLevel,
          ann: config.ann,
          index: plan.index,
          baseVersion: manifest.current.version,
          writerEpoch: manifest.current.writerEpoch,
        },
        closing,
      );
      return stored ? await slabs.load(outputId) : undefined;
    } catch (err) {
      slabs.unreserve(outputId);
      throw err;
    }
  }

  /** Merges a compaction's inputs into one slab (in a worker thread) and stores it. */
  async #compactHere(plan: ScheduledCompaction): Promise<WrittenSlab | undefined> {
    const { manifest, compactor, config, dimension, metric, logger, name } = this.#options;
    const readers = plan.inputs.map((ref) => manifest.reader(ref.id)!);
    this.#workingBytes = compactionWorkingBytes(readers);
    if (this.#options.makeRoom) {
      this.#options.makeRoom();
      // A trim may have shed an input held whole: the merge then reads a copy of it.
      this.#workingBytes = compactionWorkingBytes(readers);
      this.#options.makeRoom();
    }
    // Inputs the merge reads in place (shared with its worker) stay in memory until it ends: a
    // trim shedding them meanwhile would free nothing, though the budget would count it freed.
    const holds: (() => void)[] = [];
    try {
      const output = await compactor.run({
        inputs: await Promise.all(
          readers.map(async (reader) => {
            const { bytes, copy } = await reader.wholeBytes();
            if (!copy) holds.push(reader.hold());
            return { id: reader.id, bytes, owned: copy };
          }),
        ),
        dropTombstones: plan.dropTombstones,
        dimension,
        metric,
        level: plan.outputLevel,
        ann: config.ann,
        indexAlways: plan.index,
        donor: await manifest.annDonor(),
      });
      if (output.annBuild) logger.info({ namespace: name, rows: output.header?.count, ...output.annBuild }, 'built ANN index');
      return output.header ? await this.#options.slabs.write(output.bytes, output.header) : undefined;
    } finally {
      for (const release of holds) release();
      this.#workingBytes = 0;
    }
  }
}

/**
 * What a local compaction of `inputs` holds at its peak beside the slabs already counted: a copy
 * of each input the reader does not hold whole as built (wholeBytes), a few bytes per merged row,
 * and — the merge's output being at most as large as its inputs — either the merged vectors handed
 * to faiss and faiss's copy of them (the index build) or the output slab (built after both are
 * freed and the worker's heap trimmed; see runCompactionJob).
 */
export function compactionWorkingBytes(inputs: readonly SlabReader[]): number {
  let copies = 0;
  let files = 0;
  let vectors = 0;
  let rows = 0;
  for (const reader of inputs) {
    if (!reader.holdsWholeFile) copies += reader.fileBytes;
    files += reader.fileBytes;
    vectors += reader.vectorBytes;
    rows += reader.count;
  }
  return copies + Math.max(2 * vectors, files) + rows * MERGED_ROW_BYTES;
}
