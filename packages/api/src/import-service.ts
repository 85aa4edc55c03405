import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@conifer/core';
import type { BulkImport, ControlPlane, ImportErrorMode, ImportStatus } from '@conifer/control';
import type { IndexHandle, RecordInput, StagedImport } from '@conifer/engine';
import { openObjectStore, type ObjectStore } from '@conifer/storage';
import { assertCanWrite, type AuthContext } from './auth.ts';
import { handleOf, resolveLiveIndex } from './index-service.ts';
import { readNamespace, scanImport, type ImportNamespace } from './import-parquet.ts';
import { afterOf, paginationOf } from './pagination.ts';

/**
 * Bulk imports (Pinecone's `/bulk/imports`): Parquet files under a URI written straight into new
 * namespaces as slabs (`Engine.stageImport`), in the background on this node.
 *
 * An import first stages every namespace (reads its files, stores its slabs, commits nothing), then
 * commits them one after the other. With `onError: abort`, a bad row or file anywhere fails the
 * import before any commit, so no namespace is created; only a commit that loses (the namespace
 * came into being meanwhile) can fail it after earlier namespaces were committed, and those stay.
 * With `continue`, bad rows and unreadable files are skipped and counted, and a namespace that
 * already exists is skipped whole.
 */

export interface StartImportInput {
  index: string;
  uri: string;
  integrationId?: string | undefined;
  errorMode?: ImportErrorMode | undefined;
}

/** An import as the API answers it. */
export interface ImportInfo {
  id: string;
  /** Where its Parquet files are read from (`<uri>/<namespace>/*.parquet`). */
  uri: string;
  /** `Pending` and `InProgress` while it runs; `Completed`, `Failed` or `Cancelled` once finished. */
  status: ImportStatus;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; absent while it runs. */
  finishedAt?: string;
  /** 0–100, by the bytes of Parquet read; 100 once completed. */
  percentComplete: number;
  /** Records written so far (staged while it runs, committed once completed). */
  recordsImported: number;
  /** Why it failed; for a completed `continue` import that skipped rows, how many and the first problem. */
  error?: string;
}

export interface ImportService {
  startImport(auth: AuthContext, input: StartImportInput): Promise<{ id: string }>;
  listImports(
    auth: AuthContext,
    input: { index: string; limit?: number | undefined; paginationToken?: string | undefined },
  ): Promise<{ data: ImportInfo[]; pagination?: { next: string } }>;
  describeImport(auth: AuthContext, input: { index: string; id: string }): Promise<ImportInfo>;
  /** Cancels an import not yet finished; no effect on a finished one (Pinecone's spec). */
  cancelImport(auth: AuthContext, input: { index: string; id: string }): Promise<void>;
  /** At start: marks imports a restart interrupted as Failed; returns how many. */
  failInterruptedImports(): Promise<number>;
  /** Resolves once every import running in this process has finished (tests, shutdown). */
  importsSettled(): Promise<void>;
  /** Shutdown: stops the imports running here (marked Failed, their slabs deleted) and waits for them. */
  stopImports(): Promise<void>;
}

/** What runs an import: the node's engine (a cluster gateway has none). */
export interface BulkImporter {
  stageImport(
    index: IndexHandle,
    namespace: string,
    batches: AsyncIterable<RecordInput[]>,
    options?: { signal?: AbortSignal; onBatch?(records: number): void },
  ): Promise<StagedImport>;
  readonly config?: { memtableMaxRecords: number; memtableMaxBytes: number };
}

export interface ImportServiceOptions {
  /** Allow `file://` URIs (a directory of the server's machine); off by default (`CONIFER_IMPORT_FILE_URIS`). */
  allowFileUris?: boolean | undefined;
  /** Records per slab; default as a flushed memtable: the engine's `memtableMaxRecords`, fewer when `memtableMaxBytes` of vectors is reached first. */
  batchRecords?: number | undefined;
  /**
   * Locations no import may read (the server's own object store and data directory, as URIs): a
   * write key must not reach the server's own files, nor other projects' data in its store.
   */
  forbiddenUris?: readonly string[] | undefined;
  /** Opens the store an import URI names. Default `openObjectStore`. */
  openStore?: ((uri: string) => ObjectStore) | undefined;
  /** Where background failures go besides the import's row. */
  onError?: ((error: unknown, importId: string) => void) | undefined;
}

const INTERRUPTED = 'The import was interrupted by a restart of the server; start it again (its slabs are removed by the next import into the namespace).';
/** How long a shutdown waits for the imports it stops. */
const STOP_WAIT_MS = 5_000;
const SHUT_DOWN = 'The import was interrupted by a shutdown of the server; start it again.';
// As the OpenAPI document's pattern for `uri`.
const CLOUD_SCHEMES = /^(s3|gs|az):\/\/[^/]/;
const AZURE_HTTPS = /^https:\/\/[^/]+\.blob\.core\.windows\.net\//;

/** Whether one location lies inside the other (or they are the same), compared as `/`-ended prefixes. */
export function overlaps(a: string, b: string): boolean {
  const dir = (uri: string) => (uri.endsWith('/') ? uri : `${uri}/`);
  return dir(a).startsWith(dir(b)) || dir(b).startsWith(dir(a));
}

function importerOf(data: unknown): BulkImporter | undefined {
  const candidate = data as Partial<BulkImporter> | undefined;
  return typeof candidate?.stageImport === 'function' ? (candidate as BulkImporter) : undefined;
}

function infoOf(row: BulkImport): ImportInfo {
  return {
    id: row.id,
    uri: row.uri,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    ...(row.finishedAt ? { finishedAt: row.finishedAt.toISOString() } : {}),
    percentComplete: Math.round(row.percentComplete * 10) / 10,
    recordsImported: row.recordsImported,
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

/** Records per slab: as many as a flushed memtable holds (`memtableMaxRecords`, or `memtableMaxBytes` of float32 vectors and ids). */
function batchRecordsOf(importer: BulkImporter, dimension: number): number {
  const config = importer.config;
  if (!config) return 50_000;
  return Math.max(1, Math.min(config.memtableMaxRecords, Math.floor(config.memtableMaxBytes / (4 * dimension + 64))));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createImportService(deps: {
  control: ControlPlane;
  data: unknown;
  nodeId?: string | undefined;
  imports?: ImportServiceOptions | undefined;
}): ImportService {
  const { control } = deps;
  const options = deps.imports ?? {};
  const importer = importerOf(deps.data);
  const running = new Map<string, { controller: AbortController; done: Promise<void>; cancelled: boolean }>();

  function checkUri(uri: string): void {
    for (const forbidden of options.forbiddenUris ?? []) {
      if (overlaps(uri, forbidden))
        throw InvalidArgumentError.at(['uri'], "must not be, or hold, this server's own storage; import from a location of your own");
    }
    if (CLOUD_SCHEMES.test(uri) || AZURE_HTTPS.test(uri)) return;
    if (uri.startsWith('file://')) {
      if (options.allowFileUris) return;
      throw InvalidArgumentError.at(['uri'], 'file:// imports are off on this server (CONIFER_IMPORT_FILE_URIS=true turns them on)');
    }
    throw InvalidArgumentError.at(
      ['uri'],
      'must be s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or https://<account>.blob.core.windows.net/container/prefix',
    );
  }

  async function run(job: BulkImport, handle: IndexHandle, store: ObjectStore, signal: AbortSignal, cancelled: () => boolean): Promise<void> {
    const errorMode = job.errorMode;
    let recordsStaged = 0;
    let skippedRows = 0;
    let firstSkip: string | undefined;
    const staged: StagedImport[] = [];
    const skip = (message: string, rows: number) => {
      skippedRows += rows;
      firstSkip ??= message;
    };
    try {
      await control.imports.progress(job.id, { status: 'InProgress' });
      const namespaces = await scanImport(store);
      if (namespaces.length === 0)
        throw new Error(`no Parquet files under ${job.uri} (expected <uri>/<namespace>/*.parquet; __default__ for the default namespace)`);
      const totalBytes = namespaces.reduce((n, ns) => n + ns.files.reduce((m, f) => m + f.size, 0), 0);
      let bytesDone = 0;
      let lastUpdate = 0;
      const report = async (force = false) => {
        const now = Date.now();
        if (!force && now - lastUpdate < 500) return;
        lastUpdate = now;
        const percent = totalBytes > 0 ? Math.min(99, (100 * bytesDone) / totalBytes) : 0;
        await control.imports.progress(job.id, { percentComplete: percent, recordsImported: recordsStaged, recordsSkipped: skippedRows });
      };
      const batchRecords = options.batchRecords ?? batchRecordsOf(importer!, handle.dimension);
      for (const ns of namespaces) {
        if (signal.aborted) break;
        const staging = await stage(ns, handle, store, {
          errorMode,
          batchRecords,
          signal,
          skip,
          onBytes: (b) => (bytesDone += b),
          onBatch: (n) => (recordsStaged += n),
          report,
        });
        if (staging) staged.push(staging);
      }
      if (signal.aborted) throw signal.reason;
      // An index deleted while its import was staged: commit nothing under its storage.
      const [current] = await control.indexes.byIds([job.indexId]);
      if (!current || current.status === 'terminating') throw new Error('the index was deleted during the import');
      let committed = 0;
      while (staged.length > 0) {
        const next = staged[0]!;
        try {
          await next.commit();
          committed += next.records;
        } catch (err) {
          if (errorMode === 'abort') throw err;
          skip(messageOf(err), next.records);
        } finally {
          staged.shift();
        }
      }
      await control.imports.progress(job.id, { recordsImported: committed, recordsSkipped: skippedRows });
      const summary = skippedRows > 0 || firstSkip !== undefined ? `Completed with ${skippedRows} records skipped; the first problem: ${firstSkip}` : undefined;
      await control.imports.finish(job.id, { status: 'Completed', ...(summary ? { error: summary } : {}) });
    } catch (err) {
      await Promise.all(staged.map((s) => s.discard().catch(() => undefined)));
      if (signal.aborted && cancelled()) {
        await control.imports.finish(job.id, { status: 'Cancelled' }).catch(() => undefined);
      } else if (signal.aborted) {
        await control.imports.finish(job.id, { status: 'Failed', error: SHUT_DOWN }).catch(() => undefined);
      } else {
        options.onError?.(err, job.id);
        await control.imports.finish(job.id, { status: 'Failed', error: messageOf(err) }).catch((e: unknown) => options.onError?.(e, job.id));
      }
    }
  }

  /** One namespace staged; undefined when `continue` skips it (it exists, or staging failed). */
  async function stage(
    ns: ImportNamespace,
    handle: IndexHandle,
    store: ObjectStore,
    o: {
      errorMode: ImportErrorMode;
      batchRecords: number;
      signal: AbortSignal;
      skip: (message: string, rows: number) => void;
      onBytes: (bytes: number) => void;
      onBatch: (records: number) => void;
      report: (force?: boolean) => Promise<void>;
    },
  ): Promise<StagedImport | undefined> {
    const batches = readNamespace(store, handle, ns, {
      onError: o.errorMode,
      batchRecords: o.batchRecords,
      onSkip: o.skip,
      onBytes: o.onBytes,
      signal: o.signal,
    });
    try {
      return await importer!.stageImport(handle, ns.namespace, batches, {
        signal: o.signal,
        onBatch: (n) => {
          o.onBatch(n);
          void o.report().catch(() => undefined);
        },
      });
    } catch (err) {
      if (o.signal.aborted || o.errorMode === 'abort') throw err;
      o.skip(`directory ${ns.dir}/: ${messageOf(err)}`, 0);
      return undefined;
    }
  }

  async function indexOf(auth: AuthContext, name: string) {
    return resolveLiveIndex(control, auth, name);
  }

  return {
    async startImport(auth, input) {
      assertCanWrite(auth, 'starting an import');
      const record = await indexOf(auth, input.index);
      if (!importer) {
        throw new FailedPreconditionError('Bulk import runs on a single-node Conifer only; this node is part of a cluster, where it is not supported yet.');
      }
      checkUri(input.uri);
      if (input.integrationId !== undefined) {
        throw InvalidArgumentError.at(['integrationId'], 'storage integrations are not supported; the server reads the URI with its own cloud credentials');
      }
      let store: ObjectStore;
      try {
        store = (options.openStore ?? openObjectStore)(input.uri);
      } catch (err) {
        throw InvalidArgumentError.at(['uri'], messageOf(err));
      }
      const job = await control.imports.create({
        projectId: auth.projectId,
        indexId: record.id,
        uri: input.uri,
        errorMode: input.errorMode ?? 'continue',
        nodeId: deps.nodeId,
      });
      const controller = new AbortController();
      const entry = { controller, done: Promise.resolve(), cancelled: false };
      entry.done = run(job, handleOf(record), store, controller.signal, () => entry.cancelled).finally(() => running.delete(job.id));
      running.set(job.id, entry);
      await control.audit(auth.projectId, auth.keyId, 'import.start', `index:${input.index}/import:${job.id}`).catch(() => undefined);
      return { id: job.id };
    },

    async listImports(auth, input) {
      const record = await indexOf(auth, input.index);
      const limit = input.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw InvalidArgumentError.at(['limit'], 'must be an integer 1–100');
      const rows = await control.imports.list(auth.projectId, record.id, { limit: limit + 1, after: afterOf(input.paginationToken, 'list imports') });
      const page = rows.slice(0, limit);
      return { data: page.map(infoOf), ...paginationOf(rows.length > limit ? page[page.length - 1]!.id : undefined) };
    },

    async describeImport(auth, input) {
      const record = await indexOf(auth, input.index);
      const row = await control.imports.get(auth.projectId, record.id, input.id);
      if (!row) throw new NotFoundError(`Import ${input.id} not found.`);
      return infoOf(row);
    },

    async cancelImport(auth, input) {
      assertCanWrite(auth, 'cancelling an import');
      const record = await indexOf(auth, input.index);
      const row = await control.imports.get(auth.projectId, record.id, input.id);
      if (!row) throw new NotFoundError(`Import ${input.id} not found.`);
      if (row.status !== 'Pending' && row.status !== 'InProgress') return;
      const entry = running.get(row.id);
      if (entry) entry.cancelled = true;
      await control.imports.finish(row.id, { status: 'Cancelled' });
      entry?.controller.abort(new Error('the import was cancelled'));
      await control.audit(auth.projectId, auth.keyId, 'import.cancel', `index:${input.index}/import:${row.id}`).catch(() => undefined);
    },

    async failInterruptedImports() {
      return (await control.imports.failInterrupted(INTERRUPTED)).length;
    },

    async importsSettled() {
      await Promise.all([...running.values()].map((r) => r.done));
    },

    async stopImports() {
      const all = [...running.entries()];
      for (const [, r] of all) r.controller.abort(new Error(SHUT_DOWN));
      // An import waiting on its source (a listing being retried) stops at its next step: give it
      // a moment, then mark it failed without waiting for it.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
      await Promise.race([Promise.all(all.map(([, r]) => r.done)), timeout]);
      clearTimeout(timer);
      await Promise.all(
        all.filter(([id]) => running.has(id)).map(([id]) => control.imports.finish(id, { status: 'Failed', error: SHUT_DOWN }).catch(() => undefined)),
      );
    },
  };
}
