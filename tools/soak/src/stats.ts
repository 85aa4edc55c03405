/**
 * What happened during the run: every operation with its latency and how it ended, and every
 * finding (an error from a healthy server, a check the server failed, a crash).
 */
import { percentile } from '@conifer/core';
import type { Face } from './api.ts';

export const OP_KINDS = [
  'upsert',
  'update',
  'delete',
  'deleteByFilter',
  'deleteAll',
  'deleteNamespace',
  'fetch',
  'query',
  'queryFiltered',
  'queryExhaustive',
  'list',
  'listNamespaces',
  'describeNamespace',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

export interface OpSummary {
  count: number;
  /** Answered with success. */
  ok: number;
  /** Cut off by the soak's own restarts (no answer, or 503 while the server was stopping): expected. */
  outage: number;
  /** Failed while the server was up: findings. `noResponse` counts refused, reset and timed-out requests. */
  clientErrors: number;
  serverErrors: number;
  noResponse: number;
  p50Ms: number;
  p99Ms: number;
}

class OpRecord {
  readonly latencies: number[] = [];
  outage = 0;
  clientErrors = 0;
  serverErrors = 0;
  noResponse = 0;
}

export class OpStats {
  readonly #ops = new Map<OpKind, OpRecord>(OP_KINDS.map((k) => [k, new OpRecord()]));
  readonly byFace: Record<Face, number> = { sdk: 0, rest: 0, engine: 0 };

  ok(kind: OpKind, face: Face, ms: number): void {
    this.#ops.get(kind)!.latencies.push(ms);
    this.byFace[face]++;
  }

  outage(kind: OpKind, face: Face): void {
    this.#ops.get(kind)!.outage++;
    this.byFace[face]++;
  }

  failed(kind: OpKind, face: Face, status: number | undefined): void {
    const op = this.#ops.get(kind)!;
    if (status === undefined) op.noResponse++;
    else if (status >= 500) op.serverErrors++;
    else op.clientErrors++;
    this.byFace[face]++;
  }

  summary(): Record<OpKind, OpSummary> {
    const out = {} as Record<OpKind, OpSummary>;
    for (const [kind, op] of this.#ops) {
      const sorted = [...op.latencies].sort((a, b) => a - b);
      const failed = op.clientErrors + op.serverErrors + op.noResponse;
      out[kind] = {
        count: sorted.length + op.outage + failed,
        ok: sorted.length,
        outage: op.outage,
        clientErrors: op.clientErrors,
        serverErrors: op.serverErrors,
        noResponse: op.noResponse,
        p50Ms: round(percentile(sorted, 50)),
        p99Ms: round(percentile(sorted, 99)),
      };
    }
    return out;
  }
}

function round(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms * 100) / 100 : ms;
}

/** A check the server failed: what the model allowed and what the server showed. */
export interface Mismatch {
  /** `run`: a check during the workload; `end`, `end after restart`: the full check. */
  phase: string;
  check: string;
  index: string;
  namespace: string;
  id?: string;
  expected: string;
  observed: string;
  atS: number;
  generation: number;
}

/** An error from a server that was up and healthy, or a failure of the server process itself. */
export interface Finding {
  what: string;
  op?: OpKind;
  face?: Face;
  status?: number;
  message: string;
  atS: number;
  generation: number;
}

const KEEP = 200;

/** Mismatches and findings: all counted, the first `KEEP` of each kept in full. */
export class Findings {
  readonly mismatches: Mismatch[] = [];
  readonly findings: Finding[] = [];
  mismatchCount = 0;
  findingCount = 0;
  serverErrorCount = 0;
  readonly #onEvent: (line: string) => void;

  constructor(onEvent: (line: string) => void) {
    this.#onEvent = onEvent;
  }

  mismatch(m: Mismatch): void {
    this.mismatchCount++;
    if (this.mismatches.length < KEEP) this.mismatches.push(m);
    this.#onEvent(
      `MISMATCH [${m.phase}] ${m.check} ${m.index}/${JSON.stringify(m.namespace)}${m.id !== undefined ? ` id ${m.id}` : ''}: expected ${m.expected.slice(0, 400)}, observed ${m.observed.slice(0, 400)}`,
    );
  }

  finding(f: Finding): void {
    this.findingCount++;
    if (f.status !== undefined && f.status >= 500) this.serverErrorCount++;
    if (this.findings.length < KEEP) this.findings.push(f);
    this.#onEvent(`FINDING ${f.what}${f.op ? ` (${f.op} via ${f.face})` : ''}: ${f.message.slice(0, 600)}`);
  }
}
