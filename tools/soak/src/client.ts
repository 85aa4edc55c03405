/**
 * One soak client: a closed loop of random operations on the namespaces it owns, one request at a
 * time, each through the SDK or the REST API at random. Writes update the model as acknowledged,
 * or as unknown when no answer came; reads are checked against the model at once.
 *
 * When the server goes away under a request (the soak's own restart), the client waits for the
 * next generation, then reads back the keys whose state became uncertain and a sample of the
 * others: acknowledged writes must have survived the restart.
 */
import { ApiError, listAllPages, type DataApi, type QueryRequest } from './api.ts';
import { checkCount, checkExistence, checkFetch, checkList, checkQuery, type Problem } from './checks.ts';
import { NamespaceModel, type Outcome, type Write } from './model.ts';
import type { ServerController } from './server.ts';
import type { Findings, OpKind, OpStats } from './stats.ts';
import {
  deleteFilter,
  keyId,
  KEYS_PER_NAMESPACE,
  metadata,
  metadataPatch,
  namespacesOf,
  queryFilter,
  vector,
  type NamespaceSpec,
  type Rng,
} from './workload.ts';

export interface ClientDeps {
  server: ServerController;
  /** The faces to send through, picked at random per request. */
  apis: readonly DataApi[];
  stats: OpStats;
  findings: Findings;
  /** Seconds since the run started. */
  clock: () => number;
  rng: Rng;
  /** Relative frequency of each operation (default `OP_WEIGHTS`). */
  weights?: Readonly<Record<OpKind, number>>;
}

/** Relative frequency of each operation. */
export const OP_WEIGHTS = {
  upsert: 26,
  update: 14,
  delete: 8,
  fetch: 12,
  query: 10,
  queryFiltered: 8,
  queryExhaustive: 3,
  list: 4,
  listNamespaces: 2,
  describeNamespace: 3,
  deleteByFilter: 2,
  deleteAll: 0.1,
  deleteNamespace: 0.15,
} satisfies Record<OpKind, number>;

/** Checks made while the workload ran (reads compared with the model). */
export interface RunChecks {
  readBacks: number;
  recordsCompared: number;
  queriesChecked: number;
  listsChecked: number;
  afterRestart: number;
}

type Sent<T> = { ok: true; value: T } | { ok: false; status: number | undefined; outage: boolean; accepted: boolean };

const ALL_KEYS = Array.from({ length: KEYS_PER_NAMESPACE }, (_, k) => k);
const FETCH_CHUNK = 100;

export class SoakClient {
  readonly id: number;
  readonly namespaces: readonly NamespaceSpec[];
  readonly models: readonly NamespaceModel[];
  readonly checks: RunChecks = { readBacks: 0, recordsCompared: 0, queriesChecked: 0, listsChecked: 0, afterRestart: 0 };
  readonly #deps: ClientDeps;
  #version = 0;

  constructor(id: number, deps: ClientDeps) {
    this.id = id;
    this.#deps = deps;
    this.namespaces = namespacesOf(id);
    this.models = this.namespaces.map((ns) => new NamespaceModel(ns.index.name, ns.name));
  }

  async run(stop: () => boolean): Promise<void> {
    const { server } = this.#deps;
    let generation = server.generation;
    while (!stop()) {
      await server.whenUp();
      if (stop()) break;
      if (server.generation !== generation) {
        const now = server.generation;
        if (await this.#checkAfterRestart()) generation = now;
        continue;
      }
      await this.#step();
    }
  }

  async #step(): Promise<void> {
    const { rng } = this.#deps;
    const at = rng.int(0, this.namespaces.length - 1);
    const ns = this.namespaces[at]!;
    const model = this.models[at]!;
    const api = rng.pick(this.#deps.apis);
    let op = rng.weighted(this.#deps.weights ?? OP_WEIGHTS);
    // The default namespace always exists; it is emptied with deleteAll instead.
    if (op === 'deleteNamespace' && ns.name === '') op = 'deleteAll';
    switch (op) {
      case 'upsert':
        return this.#upsert(api, ns, model);
      case 'update':
        return this.#update(api, ns, model);
      case 'delete': {
        const ids = this.#someIds(ns, model, rng.int(1, 20));
        const outcome = await this.#write('delete', api, model, { kind: 'delete', ids }, () => api.deleteIds(ns.index.name, ns.name, ids));
        if (outcome === 'acknowledged' && rng.chance(0.3)) await this.#readBack(api, ns, model, ids);
        return;
      }
      case 'deleteByFilter': {
        const filter = deleteFilter(rng);
        await this.#write('deleteByFilter', api, model, { kind: 'deleteByFilter', filter }, () => api.deleteByFilter(ns.index.name, ns.name, filter));
        return;
      }
      case 'deleteAll':
        await this.#write('deleteAll', api, model, { kind: 'deleteAll' }, () => api.deleteAll(ns.index.name, ns.name));
        return;
      case 'deleteNamespace':
        return this.#deleteNamespace(api, ns, model);
      case 'fetch':
        await this.#readBack(api, ns, model, this.#someIds(ns, model, rng.int(1, 30)), 'fetch');
        return;
      case 'query':
      case 'queryFiltered':
      case 'queryExhaustive':
        return this.#query(op, api, ns, model);
      case 'list':
        return this.#list(api, ns, model);
      case 'listNamespaces':
        return this.#listNamespaces(api, ns);
      case 'describeNamespace':
        return this.#describeNamespace(api, ns, model);
    }
  }

  async #upsert(api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const { rng } = this.#deps;
    const records = rng.sample(ALL_KEYS, rng.int(1, 40)).map((k) => ({
      id: keyId(ns, k),
      values: vector(rng, ns.index.dimension),
      metadata: metadata(rng, ++this.#version, this.id),
    }));
    const outcome = await this.#write('upsert', api, model, { kind: 'upsert', records }, () => api.upsert(ns.index.name, ns.name, records));
    // Read-your-writes: the acknowledged records, read back at once (through either face).
    if (outcome === 'acknowledged' && rng.chance(0.5))
      await this.#readBack(
        rng.pick(this.#deps.apis),
        ns,
        model,
        records.map((r) => r.id),
      );
  }

  async #update(api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const { rng } = this.#deps;
    // Mostly ids that may hold a record; now and then any id of the pool (an update of nothing matches 0).
    const maybe = model.maybePresentIds();
    const id = maybe.length > 0 && rng.chance(0.85) ? rng.pick(maybe) : keyId(ns, rng.pick(ALL_KEYS));
    const kind = rng.int(0, 2);
    const update: Write & { kind: 'update' } = {
      kind: 'update',
      id,
      ...(kind !== 1 ? { values: vector(rng, ns.index.dimension) } : {}),
      ...(kind !== 0 ? { setMetadata: metadataPatch(rng, ++this.#version) } : {}),
    };
    const { kind: _, ...body } = update;
    const sent = await this.#send('update', api, () => api.update(ns.index.name, ns.name, body));
    if (sent.ok) {
      // The match count says whether the id held a record before the update.
      this.#report(ns, 'run', this.#verdictProblems(model.observePresence(id, sent.value === 1), 'update: matchedRecords', id));
      model.apply(update, 'acknowledged');
      if (rng.chance(0.5)) await this.#readBack(rng.pick(this.#deps.apis), ns, model, [id]);
    } else if (!sent.accepted && (sent.status === undefined || sent.status >= 500)) model.apply(update, 'unknown');
  }

  async #deleteNamespace(api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const sent = await this.#send(
      'deleteNamespace',
      api,
      () => api.deleteNamespace(ns.index.name, ns.name),
      (status) => status === 404,
    );
    if (sent.ok) {
      this.#report(ns, 'run', checkExistence(model, true, 'deleteNamespace'));
      model.apply({ kind: 'deleteNamespace' }, 'acknowledged');
    } else if (sent.accepted) this.#report(ns, 'run', checkExistence(model, false, 'deleteNamespace answered 404'));
    else if (sent.status === undefined || sent.status >= 500) model.apply({ kind: 'deleteNamespace' }, 'unknown');
  }

  async #query(op: 'query' | 'queryFiltered' | 'queryExhaustive', api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const { rng } = this.#deps;
    // Half the time the vector of a record that may be there, so the top match is an exact hit.
    const present = model.maybePresentIds();
    const own = present.length > 0 && rng.chance(0.5) ? model.possible(rng.pick(present)).find((s) => s !== null) : undefined;
    const filter = op === 'queryFiltered' || (op === 'queryExhaustive' && rng.chance(0.7)) ? queryFilter(rng) : undefined;
    const withData = op === 'queryExhaustive' || rng.chance(0.7);
    const request: QueryRequest = {
      vector: own?.values ?? vector(rng, ns.index.dimension),
      topK: op === 'queryExhaustive' ? 1000 : 10,
      ...(filter ? { filter } : {}),
      includeValues: withData,
      includeMetadata: withData,
    };
    const sent = await this.#send(op, api, () => api.query(ns.index.name, ns.name, request));
    if (!sent.ok) return;
    this.checks.queriesChecked++;
    this.#report(ns, 'run', checkQuery(model, ns.index.metric, request, sent.value));
  }

  async #list(api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const limit = this.#deps.rng.int(10, 100);
    const sent = await this.#send('list', api, () =>
      listAllPages((paginationToken) => api.listIds(ns.index.name, ns.name, { limit, ...(paginationToken ? { paginationToken } : {}) })),
    );
    if (!sent.ok) return;
    this.checks.listsChecked++;
    this.#report(ns, 'run', checkList(model, sent.value));
  }

  async #listNamespaces(api: DataApi, ns: NamespaceSpec): Promise<void> {
    const limit = this.#deps.rng.int(5, 100);
    const sent = await this.#send('listNamespaces', api, () =>
      listAllPages((paginationToken) => api.listNamespaces(ns.index.name, { limit, ...(paginationToken ? { paginationToken } : {}) })),
    );
    if (!sent.ok) return;
    const listed = new Map(sent.value.map((s) => [s.name, s.recordCount]));
    // Only this client's namespaces: the others change under it.
    this.namespaces.forEach((mine, i) => {
      if (mine.index !== ns.index) return;
      const count = listed.get(mine.name);
      const problems = checkExistence(this.models[i]!, count !== undefined, 'listNamespaces');
      if (count !== undefined) problems.push(...checkCount(this.models[i]!, count, 'listNamespaces'));
      this.#report(mine, 'run', problems);
    });
  }

  async #describeNamespace(api: DataApi, ns: NamespaceSpec, model: NamespaceModel): Promise<void> {
    const sent = await this.#send(
      'describeNamespace',
      api,
      () => api.describeNamespace(ns.index.name, ns.name),
      (status) => status === 404,
    );
    if (sent.ok) this.#report(ns, 'run', [...checkExistence(model, true, 'describeNamespace'), ...checkCount(model, sent.value, 'describeNamespace')]);
    else if (sent.accepted) this.#report(ns, 'run', checkExistence(model, false, 'describeNamespace answered 404'));
  }

  /** Fetches `ids` and compares them with the model; false when the server went away meanwhile. */
  async #readBack(
    api: DataApi,
    ns: NamespaceSpec,
    model: NamespaceModel,
    ids: readonly string[],
    phase: 'fetch' | 'read-back' = 'read-back',
  ): Promise<boolean> {
    for (let i = 0; i < ids.length; i += FETCH_CHUNK) {
      const chunk = ids.slice(i, i + FETCH_CHUNK);
      const sent = await this.#send('fetch', api, () => api.fetch(ns.index.name, ns.name, chunk));
      if (!sent.ok) return false;
      if (phase === 'read-back') this.checks.readBacks++;
      this.checks.recordsCompared += chunk.length;
      this.#report(ns, 'run', checkFetch(model, chunk, sent.value));
    }
    return true;
  }

  /** After a restart: every uncertain key and a sample of the rest, and uncertain namespace existence. */
  async #checkAfterRestart(): Promise<boolean> {
    const { rng } = this.#deps;
    for (const [i, ns] of this.namespaces.entries()) {
      const model = this.models[i]!;
      const api = rng.pick(this.#deps.apis);
      const ids = [...new Set([...model.uncertainIds(), ...rng.sample(model.ids(), 25)])];
      if (!(await this.#readBack(api, ns, model, ids))) return false;
      if (model.existence().length > 1) {
        const sent = await this.#send(
          'describeNamespace',
          api,
          () => api.describeNamespace(ns.index.name, ns.name),
          (status) => status === 404,
        );
        if (!sent.ok && !sent.accepted) return false;
        this.#report(ns, 'run', checkExistence(model, sent.ok, 'describeNamespace after restart'));
      }
    }
    this.checks.afterRestart++;
    return true;
  }

  /** Mostly ids that may hold a record, some from the whole pool. */
  #someIds(ns: NamespaceSpec, model: NamespaceModel, count: number): string[] {
    const { rng } = this.#deps;
    const maybe = model.maybePresentIds();
    const fromModel = rng.sample(maybe, Math.ceil(count * 0.7));
    const fromPool = rng.sample(ALL_KEYS, count - fromModel.length).map((k) => keyId(ns, k));
    return [...new Set([...fromModel, ...fromPool])];
  }

  /**
   * A write: acknowledged → applied to the model; no answer or a 5xx → its outcome is unknown;
   * a 4xx → not applied (and a finding).
   */
  async #write(kind: OpKind, api: DataApi, model: NamespaceModel, write: Write, fn: () => Promise<void>): Promise<Outcome | 'rejected'> {
    const sent = await this.#send(kind, api, fn);
    if (sent.ok) {
      model.apply(write, 'acknowledged');
      return 'acknowledged';
    }
    if (sent.status !== undefined && sent.status < 500) return 'rejected';
    model.apply(write, 'unknown');
    return 'unknown';
  }

  /**
   * One request, timed. A failure counts as an outage when the server was stopped (or died) while
   * it was in flight, as a finding otherwise. `accept` names statuses that are answers, not errors.
   */
  async #send<T>(kind: OpKind, api: DataApi, fn: () => Promise<T>, accept?: (status: number) => boolean): Promise<Sent<T>> {
    const { server, stats, findings, clock } = this.#deps;
    const disruptions = server.disruptions;
    const generation = server.generation;
    const started = performance.now();
    try {
      const value = await fn();
      stats.ok(kind, api.face, performance.now() - started);
      return { ok: true, value };
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(api.face, undefined, String(err), { cause: err });
      const status = error.status;
      if (status !== undefined && accept?.(status)) {
        stats.ok(kind, api.face, performance.now() - started);
        return { ok: false, status, outage: false, accepted: true };
      }
      // A crash's reset connection can arrive before the process's exit is noticed.
      if (status === undefined && server.disruptions === disruptions && server.isUp) await new Promise((r) => setTimeout(r, 500));
      const disrupted = server.disruptions !== disruptions || !server.isUp;
      // 503 is what a draining server answers to requests that arrive after SIGTERM.
      if (disrupted && (status === undefined || status === 503)) {
        stats.outage(kind, api.face);
        return { ok: false, status, outage: true, accepted: false };
      }
      stats.failed(kind, api.face, status);
      findings.finding({
        what: status === undefined ? 'no response from a healthy server' : `HTTP ${status} from a healthy server`,
        op: kind,
        face: api.face,
        ...(status !== undefined ? { status } : {}),
        message: error.message,
        atS: clock(),
        generation,
      });
      return { ok: false, status, outage: false, accepted: false };
    }
  }

  #verdictProblems(verdict: { ok: true } | { ok: false; expected: string; observed: string }, check: string, id: string): Problem[] {
    return verdict.ok ? [] : [{ check, id, expected: verdict.expected, observed: verdict.observed }];
  }

  #report(ns: NamespaceSpec, phase: string, problems: readonly Problem[]): void {
    const { findings, clock, server } = this.#deps;
    for (const p of problems)
      findings.mismatch({
        phase,
        check: p.check,
        index: ns.index.name,
        namespace: ns.name,
        ...(p.id !== undefined ? { id: p.id } : {}),
        expected: p.expected,
        observed: p.observed,
        atS: clock(),
        generation: server.generation,
      });
  }
}
