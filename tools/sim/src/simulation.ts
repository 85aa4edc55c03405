/**
 * One deterministic simulation run: from one seed, two engines ("nodes") on one object store —
 * each behind a store whose requests the scheduler delivers in a seeded order, with transient
 * errors and lost acknowledgements — driven by clients (the soak's workload and model) while the
 * scheduler also moves a simulated clock (memtable ages, retries, GC grace), flushes, restarts
 * nodes cleanly, crashes them, and crashes them at failpoints; in half the seeds an indexer
 * builds the compactions, and crashes and leaves too (`sim-indexer.ts`). Every read is checked against the
 * model at once; at the end every node is crashed, a fresh engine recovers from the store, and
 * everything acknowledged must be there (the soak's full check).
 *
 * Nothing but the seed decides what happens: the clock is a `ManualClock`, all randomness comes
 * from the seed, storage is in memory, compactions run inline and slabs stay flat (no faiss
 * thread pool), and the scheduler lets the event loop run a fixed number of turns between steps.
 */
import { FAILPOINTS, ManualClock, mulberry32, setFailpointHandler } from '@conifer/core';
import { Engine, type EngineConfig, type IndexHandle } from '@conifer/engine';
import { DEFAULT_COMPACTOR_OPTIONS } from '@conifer/index-builder';
import { checkCount, checkExistence, checkFetch, checkList, checkQuery, type Problem } from '@conifer/soak/checks';
import { NamespaceModel, type Write } from '@conifer/soak/model';
import { verifyAll } from '@conifer/soak/verify';
import { keyId, metadata, metadataPatch, queryFilter, Rng, vector, type IndexSpec, type NamespaceSpec } from '@conifer/soak/workload';
import { ApiError } from '@conifer/soak/api';
import { MemoryObjectStore, withRetries } from '@conifer/storage';
import { EngineApi } from './engine-api.ts';
import { SimIndexer } from './sim-indexer.ts';
import { SimStore, type Delivery } from './sim-store.ts';

export interface SimOptions {
  seed: number;
  /** Scheduler steps before the run winds down. */
  steps: number;
}

export interface SimResult {
  seed: number;
  steps: number;
  operations: number;
  acknowledged: number;
  unknownOutcomes: number;
  deliveries: Record<Delivery, number>;
  crashes: number;
  failpointCrashes: number;
  /** Compactions an indexer built (seeds that run one), and times it crashed holding a job. */
  indexerBuilds: number;
  indexerCrashes: number;
  restarts: number;
  recordsVerified: number;
  /** Times the shared namespace changed owner (its writer epoch at the end, less the first owner's). */
  takeovers: number;
  problems: string[];
  /** The last events before the first problem (or the end), to read a failure by. */
  trace: string[];
}

const INDEX: IndexSpec = { name: 'sim', dimension: 4, metric: 'euclidean' };
const HANDLE: IndexHandle = { id: 'idx-sim', dimension: INDEX.dimension, metric: INDEX.metric };
/** Ids per namespace: small, so keys are written over and over (shadowing, compaction, deletes). */
const KEYS = 24;
const START_TIME = Date.UTC(2026, 0, 1);
/** Event-loop turns the scheduler lets pass between two steps. */
const TURNS = 4;
/** Relative frequency of each client operation in a namespace of its own… */
const OWNED_OPS = { upsert: 10, update: 4, delete: 3, deleteAll: 0.4, deleteNamespace: 0.3, fetch: 5, query: 4, list: 1.5, listNamespaces: 1, describe: 1 };
/** …and in the namespace both nodes write (namespace-wide operations would race the other writer). */
const SHARED_OPS: Record<keyof typeof OWNED_OPS, number> = {
  ...OWNED_OPS,
  deleteAll: 0,
  deleteNamespace: 0,
  query: 0,
  list: 0,
  listNamespaces: 0,
  describe: 0,
};
/** A store attempt unanswered this long is abandoned by the retries, and never lands later. */
const ATTEMPT_TIMEOUT_MS = 2_000;
/** How long the retries keep at one store call. */
const RETRY_DEADLINE_MS = 8_000;

/** Small thresholds: flushes, compactions and GC happen every few operations. */
function engineConfig(rng: Rng): Partial<EngineConfig> {
  return {
    memtableMaxRecords: rng.int(6, 30),
    memtableMaxAgeMs: rng.pick([1_500, 30_000]),
    compaction: { trigger: 2, maxMerge: rng.int(2, 4) },
    // Down to none at all: a writer confirms after each log write that nobody took over meanwhile,
    // so a stalled append that lands on a collected key is never acknowledged.
    gcGraceMs: rng.pick([0, 1_000, 12_000, 60_000]),
    tickMs: 200,
    indexIdleMs: 1e12,
    exactBudget: 2 ** 40,
    ann: { minRows: 1e12, recallTarget: 0.95, calibrationQueries: 10 },
    compactor: { ...DEFAULT_COMPACTOR_OPTIONS, inline: true, niceness: 0, idleMs: 0 },
  };
}

class SimNode {
  readonly name: string;
  store!: SimStore;
  engine!: Engine;
  /**
   * Bumped at every crash: an answer from an earlier incarnation never reached its client. (A clean
   * restart drains: what the closing engine still answers reaches its client.)
   */
  incarnation = 0;
  restarting: Promise<void> | undefined;
  readonly #start: () => { store: SimStore; engine: Engine };

  constructor(name: string, start: () => { store: SimStore; engine: Engine }) {
    this.name = name;
    this.#start = start;
    this.#boot();
  }

  #boot(): void {
    const { store, engine } = this.#start();
    this.store = store;
    this.engine = engine;
  }

  /** As kill -9: the engine stops where it is, nothing it sent ever lands or returns. */
  crash(): void {
    this.engine.abandon();
    this.store.kill();
    this.incarnation++;
    this.restarting = undefined;
    this.#boot();
  }

  /** As SIGTERM: the engine flushes and closes (through the scheduler's deliveries), then starts again. */
  restart(onStarted: () => void): void {
    if (this.restarting) return;
    const closing = this.engine;
    this.restarting = closing
      .close()
      .catch(() => undefined)
      .then(() => {
        if (this.engine !== closing) return; // crashed meanwhile
        this.#boot();
        this.restarting = undefined;
        onStarted();
      });
  }
}

interface InFlight {
  write: Write | undefined;
  model: NamespaceModel | undefined;
  incarnation: number;
}

class SimClient {
  readonly id: number;
  readonly node: SimNode;
  readonly api: EngineApi;
  readonly namespaces: NamespaceSpec[];
  readonly models: NamespaceModel[];
  /** In the namespace both nodes write: only writes and reads of its own ids. */
  readonly shared: boolean;
  inflight: InFlight | undefined;
  /**
   * Namespaces with a write whose outcome is unknown on a node still running: its log object may
   * have landed, and the engine applies it at its next catch-up, so until then a read may show the
   * write missing and a later one show it present. Reads there are not checked until a crash or
   * restart of the node (a fresh engine replays the whole log) or an acknowledged write in the
   * namespace (an append catches up first) settles it.
   */
  readonly unsealed = new Set<NamespaceModel>();
  #version = 0;

  constructor(id: number, node: SimNode, namespaces: NamespaceSpec[], shared: boolean) {
    this.id = id;
    this.node = node;
    this.api = new EngineApi(() => node.engine, new Map([[INDEX.name, HANDLE]]));
    this.namespaces = namespaces;
    this.models = namespaces.map((ns) => new NamespaceModel(ns.index.name, ns.name));
    this.shared = shared;
  }

  nextVersion(): number {
    return ++this.#version;
  }
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const rng = new Rng(mulberry32(options.seed));
  const clock = new ManualClock(START_TIME);
  const memory = new MemoryObjectStore();
  const config = engineConfig(rng);
  const result: SimResult = {
    seed: options.seed,
    steps: options.steps,
    operations: 0,
    acknowledged: 0,
    unknownOutcomes: 0,
    deliveries: { ok: 0, error: 0, 'lost-ack': 0 },
    crashes: 0,
    failpointCrashes: 0,
    indexerBuilds: 0,
    indexerCrashes: 0,
    restarts: 0,
    recordsVerified: 0,
    takeovers: 0,
    problems: [],
    trace: [],
  };
  const trace = (line: string) => {
    if (result.problems.length > 0) return;
    result.trace.push(`[${clock.now() - START_TIME} ms] ${line}`);
    if (result.trace.length > 60) result.trace.shift();
  };
  const problem = (where: string, p: Problem) => {
    result.problems.push(`${where}: ${p.check}${p.id ? ` ${p.id}` : ''}: expected ${p.expected}, observed ${p.observed}`);
  };
  // Half the seeds send compactions to an indexer, as a cluster's writers do.
  const indexer = rng.chance(0.5) ? new SimIndexer(new SimStore(memory, { clock, immediate: true }), (line) => trace(line)) : undefined;
  const newEngine = (store: SimStore) =>
    new Engine({
      remoteCompactions: indexer,
      store: withRetries(store, { clock, random: () => rng.float(), maxAttempts: 6, deadlineMs: RETRY_DEADLINE_MS, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS }),
      config,
      clock,
      random: () => rng.float(),
    });
  const nodes = ['a', 'b'].map(
    (name) =>
      new SimNode(name, () => {
        const store = new SimStore(memory, { clock, dropAfterMs: ATTEMPT_TIMEOUT_MS });
        return { store, engine: newEngine(store) };
      }),
  );
  const [a, b] = nodes as [SimNode, SimNode];

  // Two clients with namespaces of their own on node a; both nodes write the "shared" namespace
  // (disjoint ids), as two writers on one prefix.
  const ns = (name: string, client: number, j: number): NamespaceSpec => ({ index: INDEX, name, idPrefix: `c${client}-n${j}-` });
  const clients = [
    new SimClient(0, a, [ns('', 0, 0), ns('alpha', 0, 1)], false),
    new SimClient(1, a, [ns('beta', 1, 0)], false),
    new SimClient(2, a, [ns('shared', 2, 0)], true),
    new SimClient(3, b, [ns('shared', 3, 0)], true),
  ];

  // Each seed its own mix: how often nodes crash or restart, and how busy each client is (a
  // client that writes rarely leaves its node's view behind the other writer's for long).
  const mix = {
    crash: rng.pick([0, 0.3, 1]),
    restart: rng.pick([0, 0.3, 1]),
    failpoints: rng.pick([0, 0.3, 1]),
    activity: clients.map(() => rng.pick([0.05, 1, 3])),
  };
  const pickWeighted = <T>(items: readonly T[], weight: (item: T) => number): T => {
    let r = rng.float() * items.reduce((sum, item) => sum + weight(item), 0);
    for (const item of items) if ((r -= weight(item)) < 0) return item;
    return items[items.length - 1]!;
  };

  let armed: { name: string; countdown: number } | undefined;
  const crash = (node: SimNode, why: string) => {
    trace(`crash ${node.name} (${why})`);
    for (const client of clients) {
      if (client.node !== node || !client.inflight) continue;
      if (client.inflight.write) client.inflight.model!.apply(client.inflight.write, 'unknown');
      client.inflight = undefined;
    }
    for (const client of clients) if (client.node === node) client.unsealed.clear();
    node.crash();
  };
  setFailpointHandler((name) => {
    if (!armed || armed.name !== name || --armed.countdown > 0) return;
    armed = undefined;
    result.failpointCrashes++;
    for (const node of nodes) crash(node, `failpoint ${name}`);
  });

  const drain = async () => {
    for (let i = 0; i < TURNS; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  /** One client operation, started by the scheduler and finished whenever its deliveries allow. */
  const startOperation = (client: SimClient) => {
    const at = rng.int(0, client.namespaces.length - 1);
    const spec = client.namespaces[at]!;
    const model = client.models[at]!;
    const incarnation = client.node.incarnation;
    const ownIds = Array.from({ length: KEYS }, (_, k) => keyId(spec, k));
    const op = rng.weighted(client.shared ? SHARED_OPS : OWNED_OPS);
    let write: Write | undefined;
    let send: () => Promise<unknown>;
    switch (op) {
      case 'upsert': {
        const records = rng
          .sample(ownIds, rng.int(1, 6))
          .map((id) => ({ id, values: vector(rng, INDEX.dimension), metadata: metadata(rng, client.nextVersion(), client.id) }));
        write = { kind: 'upsert', records };
        send = () => client.api.upsert(INDEX.name, spec.name, records);
        break;
      }
      case 'update': {
        const id = rng.pick(ownIds);
        const values = rng.chance(0.5) ? vector(rng, INDEX.dimension) : undefined;
        const setMetadata = !values || rng.chance(0.5) ? metadataPatch(rng, client.nextVersion()) : undefined;
        write = { kind: 'update', id, ...(values ? { values } : {}), ...(setMetadata ? { setMetadata } : {}) };
        send = async () => {
          const matched = await client.api.update(INDEX.name, spec.name, { id, ...(values ? { values } : {}), ...(setMetadata ? { setMetadata } : {}) });
          // The match count says whether the id held a record just before the update.
          return () => {
            const verdict = model.observePresence(id, matched === 1);
            return verdict.ok ? [] : [{ check: 'update: matchedRecords', id, expected: verdict.expected, observed: verdict.observed }];
          };
        };
        break;
      }
      case 'delete': {
        const ids = rng.sample(ownIds, rng.int(1, 4));
        write = { kind: 'delete', ids };
        send = () => client.api.deleteIds(INDEX.name, spec.name, ids);
        break;
      }
      case 'deleteAll':
        write = { kind: 'deleteAll' };
        send = () => client.api.deleteAll(INDEX.name, spec.name);
        break;
      case 'deleteNamespace':
        if (spec.name === '') {
          write = { kind: 'deleteAll' };
          send = () => client.api.deleteAll(INDEX.name, spec.name);
        } else {
          write = { kind: 'deleteNamespace' };
          send = () => client.api.deleteNamespace(INDEX.name, spec.name);
        }
        break;
      case 'fetch': {
        const ids = rng.sample(ownIds, rng.int(1, 8));
        send = async () => {
          const found = await client.api.fetch(INDEX.name, spec.name, ids);
          return () => checkFetch(model, ids, found);
        };
        break;
      }
      case 'query': {
        const filter = rng.chance(0.4) ? queryFilter(rng) : undefined;
        const request = {
          vector: vector(rng, INDEX.dimension),
          topK: rng.pick([3, 10, 100]),
          ...(filter ? { filter } : {}),
          includeValues: true,
          includeMetadata: true,
        };
        send = async () => {
          const matches = await client.api.query(INDEX.name, spec.name, request);
          return () => checkQuery(model, 'euclidean', request, matches);
        };
        break;
      }
      case 'list':
        send = async () => {
          const page = await client.api.listIds(INDEX.name, spec.name, { limit: 1000 });
          return () => checkList(model, page.items);
        };
        break;
      case 'listNamespaces':
        send = async () => {
          const page = await client.api.listNamespaces(INDEX.name, { limit: 1000 });
          const count = page.items.find((n) => n.name === spec.name)?.recordCount;
          return () => [
            ...checkExistence(model, count !== undefined, 'listNamespaces'),
            ...(count === undefined ? [] : checkCount(model, count, 'listNamespaces')),
          ];
        };
        break;
      default:
        send = async () => {
          try {
            const count = await client.api.describeNamespace(INDEX.name, spec.name);
            return () => [...checkExistence(model, true, 'describeNamespace'), ...checkCount(model, count, 'describeNamespace')];
          } catch (err) {
            if (err instanceof ApiError && err.status === 404) return () => checkExistence(model, false, 'describeNamespace answered 404');
            throw err;
          }
        };
    }
    const inflight: InFlight = { write, model, incarnation };
    client.inflight = inflight;
    trace(`client ${client.id} ${op} ${spec.name || '__default__'} on ${client.node.name}${write ? ' ' + JSON.stringify(write).slice(0, 200) : ''}`);
    void send().then(
      (answer) => {
        if (client.inflight !== inflight) return; // its node crashed meanwhile: already unknown
        client.inflight = undefined;
        result.operations++;
        // An answer from a node that crashed under it never reached the client: its outcome is unknown.
        if (client.node.incarnation !== incarnation) {
          if (write) {
            model.apply(write, 'unknown');
            result.unknownOutcomes++;
          }
          return;
        }
        // Reads (and an update's match count) are checked before the write is applied.
        if (typeof answer === 'function' && !client.unsealed.has(model)) {
          for (const p of (answer as () => Problem[])()) problem(`read by client ${client.id} (${op} ${spec.name || '__default__'})`, p);
        }
        if (write) {
          model.apply(write, 'acknowledged');
          result.acknowledged++;
          // An append catches the log up first: every earlier write that landed is applied now.
          client.unsealed.delete(model);
          trace(`client ${client.id} ${op} acknowledged`);
        }
      },
      (err: unknown) => {
        if (client.inflight !== inflight) return;
        client.inflight = undefined;
        result.operations++;
        const status = err instanceof ApiError ? err.status : undefined;
        trace(`client ${client.id} ${op} failed: ${status ?? ''} ${err instanceof Error ? err.message : String(err)}`);
        // 503: a store fault outlasted the retries, a fenced view, a node closing. Anything else is a bug.
        if (status !== 503 && !(op === 'deleteNamespace' && status === 404)) {
          result.problems.push(`client ${client.id} ${op}: HTTP ${status ?? 'none'}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (op === 'deleteNamespace' && status === 404) {
          for (const p of checkExistence(model, false, 'deleteNamespace answered 404')) problem(`client ${client.id}`, p);
        } else if (write) {
          model.apply(write, 'unknown');
          result.unknownOutcomes++;
          // Its log object may have landed: the engine applies it at its next catch-up.
          client.unsealed.add(model);
        }
      },
    );
  };

  const deliverOne = async () => {
    const live = nodes.filter((n) => n.store.pending > 0);
    if (live.length === 0) return;
    const node = rng.pick(live);
    const how: Delivery = rng.chance(0.06) ? 'error' : rng.chance(0.05) ? 'lost-ack' : 'ok';
    result.deliveries[how]++;
    await node.store.deliver(rng.int(0, node.store.pending - 1), how);
  };

  try {
    for (let step = 0; step < options.steps && result.problems.length === 0; step++) {
      await drain();
      const idle = clients.filter((c) => !c.inflight);
      const pending = nodes.some((n) => n.store.pending > 0);
      const action = rng.weighted({
        deliver: pending ? 55 : 0,
        operate: idle.length > 0 ? 22 : 0,
        advance: 12,
        jump: 0.8,
        flush: 3,
        crash: mix.crash,
        restart: mix.restart,
        arm: armed ? 0 : mix.failpoints,
        indexerStep: indexer?.pending ? 6 : 0,
        indexerCrash: indexer?.pending ? 0.4 : 0,
        indexerLeave: indexer ? 0.05 : 0,
      });
      switch (action) {
        case 'deliver':
          await deliverOne();
          break;
        case 'operate':
          startOperation(pickWeighted(idle, (c) => mix.activity[c.id]!));
          break;
        case 'advance':
          clock.advance(rng.int(1, 400));
          break;
        case 'jump':
          clock.advance(rng.int(5_000, 40_000));
          break;
        case 'flush': {
          const client = rng.pick(clients);
          const spec = rng.pick(client.namespaces);
          trace(`flush ${spec.name || '__default__'} on ${client.node.name}`);
          void client.node.engine.flush(HANDLE, spec.name).catch(() => undefined);
          break;
        }
        case 'crash':
          result.crashes++;
          crash(rng.pick(nodes), 'scheduled');
          break;
        case 'restart': {
          const node = rng.pick(nodes);
          if (!node.restarting) {
            result.restarts++;
            trace(`restart ${node.name}`);
            node.restart(() => {
              for (const client of clients) if (client.node === node) client.unsealed.clear();
            });
          }
          break;
        }
        case 'arm':
          armed = { name: rng.pick(FAILPOINTS), countdown: rng.int(1, 3) };
          trace(`arm ${armed.name}@${armed.countdown}`);
          break;
        case 'indexerStep':
          await indexer!.step();
          break;
        case 'indexerCrash':
          indexer!.crash();
          break;
        case 'indexerLeave':
          // Leaves, and comes back at once for later builds: writers build the withdrawn ones themselves.
          indexer!.leave();
          indexer!.join();
          break;
      }
    }

    // Wind down: no new operations or faults; everything in flight is delivered and answered.
    armed = undefined;
    for (let round = 0; round < 2_000 && (clients.some((c) => c.inflight) || nodes.some((n) => n.store.pending > 0 || n.restarting)); round++) {
      await drain();
      for (const node of nodes) while (node.store.pending > 0) await node.store.deliver(0, 'ok');
      if (indexer?.pending) await indexer.step();
      clock.advance(250);
    }
    result.indexerBuilds = indexer?.built ?? 0;
    result.indexerCrashes = indexer?.crashes ?? 0;
    const stuck = clients.filter((c) => c.inflight);
    if (stuck.length > 0) result.problems.push(`clients ${stuck.map((c) => c.id).join(', ')} never got an answer once storage answered everything`);

    // Recovery: every node crashes; a fresh engine opens from the store alone.
    for (const node of nodes) crash(node, 'end of run');
    const recovered = new Engine({ store: new SimStore(memory, { clock, immediate: true }), config: { ...config, tickMs: 1e12 }, clock });
    try {
      await recover(recovered);
    } catch (err) {
      result.problems.push(`recovery failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await recovered.close();
    }
  } finally {
    setFailpointHandler(undefined);
    for (const node of nodes) node.engine.abandon();
  }
  return result;

  /** Everything acknowledged, read back through a fresh engine. */
  async function recover(recovered: Engine): Promise<void> {
    {
      const api = new EngineApi(() => recovered, new Map([[INDEX.name, HANDLE]]));
      const owned = clients.filter((c) => !c.shared).flatMap((c) => c.namespaces.map((spec, i) => ({ spec, model: c.models[i]! })));
      const counts = await verifyAll(owned, [api], (target, problems) =>
        problems.forEach((p) => problem(`after recovery, ${target.spec.name || '__default__'}`, p)),
      );
      result.recordsVerified += counts.recordsChecked;
      for (const client of clients.filter((c) => c.shared)) {
        const model = client.models[0]!;
        const ids = model.ids();
        const found = await api.fetch(INDEX.name, 'shared', ids);
        result.recordsVerified += found.size;
        for (const p of checkFetch(model, ids, found)) problem(`after recovery, shared (client ${client.id})`, p);
      }
      result.takeovers = Math.max(0, (await recovered.describeNamespace(HANDLE, 'shared')).writerEpoch - 1);
    }
  }
}
