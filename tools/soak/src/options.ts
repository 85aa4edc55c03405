/**
 * Flags of `npm run soak -- …` (tools/soak/src/main.ts):
 *
 *   --minutes N            workload duration (default 5)
 *   --backend NAME         local | minio | moto | gcs | azure | azure-oldest (default local; src/backends.ts)
 *   --clients N            concurrent clients (default 6)
 *   --seed S               seed of every random choice (default 1)
 *   --out PATH             result JSON (default tools/soak/results/<backend>.json)
 *   --restart-every A-B    seconds between restarts, drawn uniformly (default 60-180)
 *   --steady-fraction F    the last F of the run has no restarts, for the memory trend (default 0.4)
 *   --no-docs              do not rewrite the soak section of docs/benchmarks.md
 *   --keep                 keep the run's directory (server log, data) even when the run passes
 *                          (a failed run always keeps it)
 *
 * The server gets the soak's tuning (src/run.ts) plus the caller's CONIFER_MEMTABLE_*,
 * CONIFER_COMPACTION_*, CONIFER_GC_*, CONIFER_INDEX_*, CONIFER_LOG_LEVEL and CONIFER_DATABASE_URL
 * (the control plane on PostgreSQL instead of embedded PGlite; use an empty database per run).
 */
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, isBackendName, type BackendName } from './backends.ts';

export interface SoakOptions {
  backend: BackendName;
  minutes: number;
  clients: number;
  seed: number;
  /** Result JSON path; undefined writes none. */
  out: string | undefined;
  docs: boolean;
  /** Keep the run's directory (server log, data): always, never, or when the run fails. */
  keep: 'always' | 'never' | 'on-failure';
  restartEveryS: [number, number];
  steadyFraction: number;
  sampleEveryS: number;
  /** Clean stop and start after the first end check, then check everything again. */
  finalRestart: boolean;
  /** Progress lines (default: stderr). */
  log: (line: string) => void;
  /** The command line, for the result. */
  command: string;
}

export const DEFAULTS = { minutes: 5, backend: 'local', clients: 6, seed: 1, restartEvery: '60-180', steadyFraction: 0.4 } as const;

export class UsageError extends Error {}

function positive(name: string, raw: string, integer: boolean): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new UsageError(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`);
  return value;
}

export function parseOptions(argv: readonly string[], defaultOut: (backend: BackendName) => string): SoakOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        minutes: { type: 'string', default: String(DEFAULTS.minutes) },
        backend: { type: 'string', default: DEFAULTS.backend },
        clients: { type: 'string', default: String(DEFAULTS.clients) },
        seed: { type: 'string', default: String(DEFAULTS.seed) },
        out: { type: 'string' },
        'restart-every': { type: 'string', default: DEFAULTS.restartEvery },
        'steady-fraction': { type: 'string', default: String(DEFAULTS.steadyFraction) },
        'no-docs': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (!isBackendName(v.backend)) throw new UsageError(`--backend: expected one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(v.backend)}`);
  const restart = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v['restart-every']);
  if (!restart || Number(restart[1]) <= 0 || Number(restart[1]) > Number(restart[2]))
    throw new UsageError(`--restart-every: expected MIN-MAX seconds, e.g. 60-180, got ${JSON.stringify(v['restart-every'])}`);
  const steadyFraction = Number(v['steady-fraction']);
  if (!(steadyFraction >= 0 && steadyFraction < 1))
    throw new UsageError(`--steady-fraction: expected a number in [0, 1), got ${JSON.stringify(v['steady-fraction'])}`);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: expected a non-negative integer, got ${JSON.stringify(v.seed)}`);
  return {
    backend: v.backend,
    minutes: positive('minutes', v.minutes, false),
    clients: positive('clients', v.clients, true),
    seed,
    out: v.out ?? defaultOut(v.backend),
    docs: !v['no-docs'],
    keep: v.keep ? 'always' : 'on-failure',
    restartEveryS: [Number(restart[1]), Number(restart[2])],
    steadyFraction,
    sampleEveryS: 2,
    finalRestart: true,
    log: (line) => process.stderr.write(`${line}\n`),
    command: `npm run soak -- ${argv.join(' ')}`.trim(),
  };
}
