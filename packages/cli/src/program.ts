import { Command, InvalidArgumentError as BadOption, Option } from 'commander';
import { Conifer, ConiferError, type CreateIndexOptions, type Filter, type IndexDescription, type NamespaceSummary } from '@conifer/sdk';
import { createOutput, table, type Output } from './output.ts';
import { configPath, permissionWarning, readConfig, resolveConnection, UsageError, writeConfig, type Env } from './profiles.ts';
import { formatOf, openRecords } from './records-reader.ts';
import { runUpsert, type OnError, type UpsertSummary } from './upsert-runner.ts';
import { startProgress } from './progress.ts';

export interface ProgramIo {
  env: Env;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborts long commands (an upsert stops reading and reports where to resume). */
  signal?: AbortSignal | undefined;
  version: string;
}

interface GlobalOptions {
  url?: string;
  apiKey?: string;
  profile?: string;
  json?: boolean;
  timeout?: number;
}

const positiveInt =
  (name: string, max = Number.MAX_SAFE_INTEGER) =>
  (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new BadOption(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };

function json<T>(name: string) {
  return (value: string): T => {
    try {
      return JSON.parse(value) as T;
    } catch {
      throw new BadOption(`${name} must be JSON`);
    }
  };
}

const collectTag = (value: string, tags: Record<string, string> = {}) => {
  const at = value.indexOf('=');
  if (at <= 0) throw new BadOption('--tag takes KEY=VALUE');
  return { ...tags, [value.slice(0, at)]: value.slice(at + 1) };
};

/** A sparse index has no dimension: shown as "sparse". */
const shapeOf = (i: { dimension: number; vectorType: string }) => (i.vectorType === 'sparse' ? 'sparse' : String(i.dimension));
const indexRow = (i: IndexDescription) => [i.name, shapeOf(i), i.metric, i.status, i.deletionProtection, i.createdAt];
const INDEX_HEADERS = ['NAME', 'DIMENSION', 'METRIC', 'STATUS', 'PROTECTION', 'CREATED'];

/** The `conifer` command line, over the SDK. `main.ts` runs it on the process; tests run it on their own streams. */
export function createProgram(io: ProgramIo): Command {
  const program = new Command('conifer')
    .description('Command line of Conifer, the self-hosted Pinecone-compatible vector database')
    .version(io.version)
    .option('--url <url>', 'server URL (default: the profile, or CONIFER_URL)')
    .option('--api-key <key>', 'API key (default: the profile, or CONIFER_API_KEY)')
    .option('--profile <name>', 'profile of the config file to use (or CONIFER_PROFILE)')
    .option('--timeout <ms>', 'time limit of each request in milliseconds', positiveInt('--timeout'))
    .option('--json', 'print results as JSON (for scripts)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError()
    .exitOverride();

  const globals = () => program.opts<GlobalOptions>();
  const output = (): Output => createOutput(globals().json === true, io.stdout, io.stderr);
  const client = async (): Promise<Conifer> => {
    const path = configPath(io.env);
    const config = await readConfig(path);
    const warning = config.profiles && Object.keys(config.profiles).length > 0 ? await permissionWarning(path) : undefined;
    if (warning) io.stderr.write(`${warning}\n`);
    const { url, apiKey } = resolveConnection(globals(), io.env, config, path);
    const timeout = globals().timeout;
    return new Conifer({ url, apiKey, ...(timeout ? { timeoutMs: timeout } : {}) });
  };

  // Profiles
  /** The config file and its profile `name`; a usage error when there is no such profile. */
  const configWithProfile = async (name: string) => {
    const path = configPath(io.env);
    const config = await readConfig(path);
    if (!config.profiles[name]) throw new UsageError(`no profile "${name}" in ${path}`);
    return { path, config };
  };
  const profile = program.command('profile').description('named servers and keys, kept in the config file (mode 0600)');
  profile
    .command('set <name>')
    .description('saves (or replaces) a profile: the server and key given with --url and --api-key')
    .option('--default', 'use it when no profile is named')
    .action(async (name: string, options: { default?: boolean }) => {
      const { url, apiKey } = globals();
      if (!url || !apiKey) throw new UsageError("profile set: pass the profile's --url and --api-key");
      const path = configPath(io.env);
      const config = await readConfig(path);
      config.profiles[name] = { url, apiKey };
      if (options.default || config.default === undefined) config.default = name;
      await writeConfig(path, config);
      output().result({ profile: name, url, default: config.default === name, path }, () => `saved profile ${name} in ${path}`);
    });
  profile
    .command('list')
    .description('the saved profiles (keys are not shown)')
    .action(async () => {
      const path = configPath(io.env);
      const config = await readConfig(path);
      const profiles = Object.entries(config.profiles).map(([name, p]) => ({ name, url: p.url, default: config.default === name }));
      output().result({ path, profiles }, () =>
        table(
          ['NAME', 'URL', 'DEFAULT'],
          profiles.map((p) => [p.name, p.url, p.default ? '*' : '']),
        ),
      );
    });
  profile
    .command('use <name>')
    .description('makes a profile the default')
    .action(async (name: string) => {
      const { path, config } = await configWithProfile(name);
      config.default = name;
      await writeConfig(path, config);
      output().result({ default: name }, () => `default profile: ${name}`);
    });
  profile
    .command('remove <name>')
    .description('deletes a profile')
    .action(async (name: string) => {
      const { path, config } = await configWithProfile(name);
      delete config.profiles[name];
      if (config.default === name) config.default = undefined;
      await writeConfig(path, config);
      output().result({ removed: name }, () => `removed profile ${name}`);
    });

  program
    .command('whoami')
    .description('the project, key and role behind the API key')
    .action(async () => {
      const me = await (await client()).whoami();
      output().result(me, (m: typeof me) => `project ${m.project.name} (${m.project.id}), key ${m.keyId}, role ${m.role}`);
    });

  // Indexes
  const index = program.command('index').description('create, list, describe, configure and delete indexes');
  index
    .command('create <name>')
    .description('creates an index')
    .option('--dimension <n>', 'vector dimension (dense indexes)', positiveInt('--dimension'))
    .addOption(new Option('--metric <metric>', 'similarity metric (default cosine; dotproduct for sparse)').choices(['cosine', 'euclidean', 'dotproduct']))
    .addOption(new Option('--sparse', 'a sparse-only index: sparse vectors, dotproduct, no dimension'))
    .option('--deletion-protection', 'refuse deletes until turned off')
    .option('--tag <key=value>', 'a tag (repeatable)', collectTag)
    .action(
      async (
        name: string,
        options: { dimension?: number; metric?: CreateIndexOptions['metric']; sparse?: boolean; deletionProtection?: boolean; tag?: Record<string, string> },
      ) => {
        if (!options.sparse && options.dimension === undefined) throw new UsageError('--dimension is required (or --sparse for a sparse-only index)');
        const created = await (
          await client()
        ).createIndex({
          name,
          ...(options.dimension !== undefined ? { dimension: options.dimension } : {}),
          ...(options.metric !== undefined ? { metric: options.metric } : {}),
          ...(options.sparse ? { vectorType: 'sparse' as const } : {}),
          deletionProtection: options.deletionProtection ? 'enabled' : 'disabled',
          ...(options.tag ? { tags: options.tag } : {}),
        });
        output().result(created, (i: IndexDescription) =>
          i.vectorType === 'sparse' ? `created index ${i.name} (sparse, ${i.metric})` : `created index ${i.name} (${i.dimension} dimensions, ${i.metric})`,
        );
      },
    );
  index
    .command('list')
    .description("the project's indexes")
    .action(async () => {
      const list = await (await client()).listIndexes();
      output().result(list, (l: typeof list) => table(INDEX_HEADERS, l.indexes.map(indexRow)));
    });
  index
    .command('describe <name>')
    .description('one index')
    .action(async (name: string) => {
      const described = await (await client()).describeIndex(name);
      output().result(
        described,
        (i: IndexDescription) => table(INDEX_HEADERS, [indexRow(i)]) + (Object.keys(i.tags).length ? `\ntags: ${JSON.stringify(i.tags)}` : ''),
      );
    });
  index
    .command('configure <name>')
    .description('changes deletion protection and tags (a tag set to "" is removed)')
    .addOption(new Option('--deletion-protection <state>', 'enabled or disabled').choices(['enabled', 'disabled']))
    .option('--tag <key=value>', 'a tag to set (repeatable)', collectTag)
    .action(async (name: string, options: { deletionProtection?: 'enabled' | 'disabled'; tag?: Record<string, string> }) => {
      if (!options.deletionProtection && !options.tag) throw new UsageError('index configure: pass --deletion-protection or --tag');
      const configured = await (
        await client()
      ).configureIndex(name, {
        ...(options.deletionProtection ? { deletionProtection: options.deletionProtection } : {}),
        ...(options.tag ? { tags: options.tag } : {}),
      });
      output().result(
        configured,
        (i: IndexDescription) => `configured index ${i.name}: deletion protection ${i.deletionProtection}, tags ${JSON.stringify(i.tags)}`,
      );
    });
  index
    .command('delete <name>')
    .description('deletes an index and all its data')
    .action(async (name: string) => {
      await (await client()).deleteIndex(name);
      output().result({ deleted: name }, () => `deleted index ${name}`);
    });
  index
    .command('stats <name>')
    .description('record counts of an index, per namespace')
    .action(async (name: string) => {
      const stats = await (await client()).index(name).describeIndexStats();
      output().result(stats, (s: typeof stats) =>
        [
          s.vectorType === 'sparse' ? `${s.totalRecordCount} records, sparse` : `${s.totalRecordCount} records, ${s.dimension} dimensions`,
          table(
            ['NAMESPACE', 'RECORDS'],
            Object.entries(s.namespaces).map(([n, v]) => [n || '(default)', v.recordCount]),
          ),
        ].join('\n'),
      );
    });

  // Namespaces
  const namespace = program.command('namespace').description('list, describe, create and delete namespaces');
  namespace
    .command('list <index>')
    .description('namespaces of an index with their record counts (every page)')
    .option('--prefix <prefix>', 'only names starting with this')
    .action(async (indexName: string, options: { prefix?: string }) => {
      const target = (await client()).index(indexName);
      const namespaces: NamespaceSummary[] = [];
      let paginationToken: string | undefined;
      do {
        const page = await target.listNamespaces({ ...(options.prefix ? { prefix: options.prefix } : {}), ...(paginationToken ? { paginationToken } : {}) });
        namespaces.push(...page.namespaces);
        paginationToken = page.pagination?.next;
      } while (paginationToken);
      output().result({ namespaces }, () =>
        table(
          ['NAMESPACE', 'RECORDS'],
          namespaces.map((n) => [n.name || '(default)', n.recordCount]),
        ),
      );
    });
  namespace
    .command('describe <index> <namespace>')
    .description('one namespace')
    .action(async (indexName: string, name: string) => {
      const described = await (await client()).index(indexName).describeNamespace(name);
      output().result(described, (n: typeof described) => `${n.name || '(default)'}: ${n.recordCount} records`);
    });
  namespace
    .command('create <index> <namespace>')
    .description('creates an empty namespace')
    .action(async (indexName: string, name: string) => {
      const created = await (await client()).index(indexName).createNamespace(name);
      output().result(created, () => `created namespace ${name} in ${indexName}`);
    });
  namespace
    .command('delete <index> <namespace>')
    .description('deletes a namespace and its records')
    .action(async (indexName: string, name: string) => {
      await (await client()).index(indexName).deleteNamespace(name);
      output().result({ deleted: name, index: indexName }, () => `deleted namespace ${name} of ${indexName}`);
    });

  // Records
  program
    .command('upsert <index>')
    .description('upserts the records of a JSONL or Parquet file, in parallel batches')
    .requiredOption('--file <path>', 'records: JSON lines ({"id","values","sparseValues","metadata"}) or Parquet (Pinecone import layout)')
    .option('--namespace <name>', 'target namespace', '')
    .addOption(new Option('--format <format>', 'file format (default: by extension)').choices(['jsonl', 'parquet']))
    .option('--batch-size <n>', 'records per request (at most 1000)', positiveInt('--batch-size', 1000), 200)
    .option('--concurrency <n>', 'requests in flight', positiveInt('--concurrency', 64), 4)
    .addOption(new Option('--on-error <mode>', 'a bad line: stop (fail) or report it and go on (skip)').choices(['fail', 'skip']).default('fail'))
    .option('--resume-after <id>', 'skip the records up to and including this id (printed by an interrupted run)')
    .action(
      async (
        indexName: string,
        options: { file: string; namespace: string; format?: string; batchSize: number; concurrency: number; onError: OnError; resumeAfter?: string },
      ) => {
        const out = output();
        const target = (await client()).index(indexName).namespace(options.namespace);
        const source = await openRecords(options.file, formatOf(options.file, options.format));
        const progress = startProgress(io.stderr, source, !out.json);
        let summary: UpsertSummary;
        try {
          summary = await runUpsert({
            index: target,
            items: source.items,
            batchSize: options.batchSize,
            concurrency: options.concurrency,
            onError: options.onError,
            resumeAfter: options.resumeAfter,
            onProgress: (n) => progress.update(n),
            signal: io.signal,
          });
        } finally {
          progress.stop();
        }
        for (const bad of summary.skipped) out.note(`line ${bad.line}${bad.id ? ` (id ${bad.id})` : ''}: ${bad.error} — skipped`);
        out.result(
          summary,
          (s: UpsertSummary) =>
            `upserted ${s.upserted} records into ${indexName}/${options.namespace || '(default)'}${s.skipped.length ? `; ${s.skipped.length} bad lines skipped` : ''}`,
        );
        if (summary.stoppedBy) {
          const stop = summary.stoppedBy;
          const why =
            stop.reason === 'bad-line'
              ? `line ${stop.badLine.line}${stop.badLine.id ? ` (id ${stop.badLine.id})` : ''}: ${stop.badLine.error}`
              : stop.reason === 'request-failed'
                ? `a request failed: ${stop.error}`
                : 'interrupted';
          const resume =
            summary.lastAcknowledgedId !== undefined
              ? `; to go on: --resume-after ${JSON.stringify(summary.lastAcknowledgedId)}`
              : '; nothing was acknowledged: run it again';
          throw new StoppedError(`stopped at ${why}${resume}${stop.reason === 'bad-line' ? ' (or --on-error skip)' : ''}`);
        }
      },
    );

  program
    .command('query <index>')
    .description('the records nearest to a vector, or to a stored record')
    .option('--vector <json>', 'query vector, a JSON list of numbers', json<number[]>('--vector'))
    .option('--id <id>', 'use this stored record as the query')
    .option('--top-k <n>', 'how many matches', positiveInt('--top-k', 10_000), 10)
    .option('--filter <json>', 'metadata filter, e.g. {"genre":{"$eq":"drama"}}', json<Filter>('--filter'))
    .option('--namespace <name>', 'namespace', '')
    .option('--include-values', 'return the vectors')
    .option('--include-metadata', 'return the metadata')
    .action(
      async (
        indexName: string,
        options: { vector?: number[]; id?: string; topK: number; filter?: Filter; namespace: string; includeValues?: boolean; includeMetadata?: boolean },
      ) => {
        if ((options.vector === undefined) === (options.id === undefined)) throw new UsageError('query: pass exactly one of --vector and --id');
        const result = await (
          await client()
        )
          .index(indexName)
          .namespace(options.namespace)
          .query({
            topK: options.topK,
            ...(options.vector ? { vector: options.vector } : { id: options.id! }),
            ...(options.filter ? { filter: options.filter } : {}),
            includeValues: options.includeValues === true,
            includeMetadata: options.includeMetadata === true,
          });
        output().result(result, (r: typeof result) =>
          table(
            ['ID', 'SCORE', ...(options.includeMetadata ? ['METADATA'] : [])],
            r.matches.map((m) => [m.id, m.score, ...(options.includeMetadata ? [JSON.stringify(m.metadata ?? {})] : [])]),
          ),
        );
      },
    );

  program
    .command('fetch <index> <ids...>')
    .description('records by id')
    .option('--namespace <name>', 'namespace', '')
    .action(async (indexName: string, ids: string[], options: { namespace: string }) => {
      const result = await (await client()).index(indexName).namespace(options.namespace).fetch(ids);
      output().result(result);
    });

  // Keys and usage
  const keys = program.command('keys').description("the project's API keys (admin keys only)");
  keys
    .command('list')
    .description('every key, revoked ones included (never their secrets)')
    .action(async () => {
      const list = await (await client()).listApiKeys();
      output().result(list, (l: typeof list) =>
        table(
          ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'REVOKED'],
          l.keys.map((k) => [k.id, k.name, k.role, k.displayPrefix, k.createdAt, k.revokedAt ?? '']),
        ),
      );
    });
  keys
    .command('create <name>')
    .description('creates a key; its secret is printed once')
    .addOption(new Option('--role <role>', 'what the key may do').choices(['admin', 'read-write', 'read-only']).default('read-write'))
    .action(async (name: string, options: { role: 'admin' | 'read-write' | 'read-only' }) => {
      const created = await (await client()).createApiKey({ name, role: options.role });
      output().result(created, (c: typeof created) => `created key ${c.key.id} (${c.key.role}); its secret, shown only now:\n${c.apiKey}`);
    });
  keys
    .command('revoke <id>')
    .description('revokes a key at once')
    .action(async (id: string) => {
      const revoked = await (await client()).revokeApiKey(id);
      output().result(revoked, () => `revoked key ${id}`);
    });

  program
    .command('usage')
    .description('read and write units per index per day (admin keys only)')
    .option('--from <date>', 'first day, YYYY-MM-DD (default: 30 days ago)')
    .option('--to <date>', 'last day, YYYY-MM-DD (default: today)')
    .option('--index <name>', 'one index only')
    .action(async (options: { from?: string; to?: string; index?: string }) => {
      const report = await (await client()).usage(options);
      output().result(report, (r: typeof report) =>
        [
          table(
            ['DAY', 'INDEX', 'READ UNITS', 'WRITE UNITS', 'REQUESTS'],
            r.days.map((d) => [d.day, d.indexName, d.readUnits, d.writeUnits, d.requests]),
          ),
          `total: ${r.total.readUnits} read units, ${r.total.writeUnits} write units, ${r.total.requests} requests (${r.from} to ${r.to})`,
        ].join('\n'),
      );
    });

  return program;
}

/** An upsert that stopped before the end of its file (exit code 1, with where to resume). */
export class StoppedError extends Error {
  override name = 'StoppedError';
}

/** Runs the command line; resolves to the exit code (0 done, 1 a call failed, 2 bad usage). */
export async function run(argv: string[], io: ProgramIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      const exitCode = (error as { exitCode?: number }).exitCode ?? 2;
      return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : exitCode === 1 ? 2 : exitCode;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`conifer: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ConiferError || error instanceof StoppedError) {
      io.stderr.write(`conifer: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`conifer: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
