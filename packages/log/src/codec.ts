import { crc32 } from 'node:zlib';
import type { Metadata, SparseF32 } from '@conifer/core';
import type { LogEntry, LogOp, PutRecord } from './entry.ts';

/**
 * Binary format of one log object (one group commit):
 *
 *   "CNFLOG01" | u32 entryCount | entry* | u32 crc32(all preceding bytes)
 *   entry = f64 lsn | u32 jsonLength | json | u32 floatCount | float32 * floatCount
 *
 * The JSON holds the op without its vectors ({k, ids, md, dims}); vectors follow as raw float32
 * (little-endian) so a 1000 × 1536 upsert is not turned into decimal text. The checksum catches a
 * torn or corrupted object; objects are written atomically, so a bad checksum is corruption, not a
 * crash artefact, and replay refuses to go on.
 */
const MAGIC = new TextEncoder().encode('CNFLOG01');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface OpJson {
  k: LogOp['kind'];
  ids?: string[];
  md?: (Metadata | null)[];
  dims?: number[];
  setMetadata?: Metadata;
  hasValues?: boolean;
  /** Sparse vectors as [indices, values] (values are float32, exact in JSON). */
  sp?: ([number[], number[]] | null)[];
}

function sparseToJson(s: SparseF32 | undefined): [number[], number[]] | null {
  return s ? [Array.from(s.indices), Array.from(s.values)] : null;
}
function sparseFromJson(j: [number[], number[]] | null | undefined): SparseF32 | undefined {
  return j ? { indices: Uint32Array.from(j[0]), values: Float32Array.from(j[1]) } : undefined;
}

function splitOp(op: LogOp): { json: OpJson; floats: Float32Array[] } {
  switch (op.kind) {
    case 'put':
      return {
        json: {
          k: 'put',
          ids: op.records.map((r) => r.id),
          md: op.records.map((r) => r.metadata ?? null),
          dims: op.records.map((r) => r.values.length),
          ...(op.records.some((r) => r.sparse) ? { sp: op.records.map((r) => sparseToJson(r.sparse)) } : {}),
        },
        floats: op.records.map((r) => r.values),
      };
    case 'update':
      return {
        json: {
          k: 'update',
          ids: op.ids,
          ...(op.setMetadata ? { setMetadata: op.setMetadata } : {}),
          ...(op.sparse ? { sp: [sparseToJson(op.sparse)] } : {}),
          hasValues: op.values !== undefined,
        },
        floats: op.values ? [op.values] : [],
      };
    case 'delete':
      return { json: { k: 'delete', ids: op.ids }, floats: [] };
    case 'deleteAll':
      return { json: { k: 'deleteAll' }, floats: [] };
  }
}

export function encodeLogBatch(entries: readonly LogEntry[]): Uint8Array {
  const parts = entries.map((e) => {
    const { json, floats } = splitOp(e.op);
    return { lsn: e.lsn, json: encoder.encode(JSON.stringify(json)), floats };
  });
  let size = MAGIC.length + 4 + 4;
  for (const p of parts) size += 8 + 4 + p.json.length + 4 + 4 * p.floats.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  view.setUint32(at, entries.length, true);
  at += 4;
  for (const p of parts) {
    view.setFloat64(at, p.lsn, true);
    at += 8;
    view.setUint32(at, p.json.length, true);
    at += 4;
    out.set(p.json, at);
    at += p.json.length;
    const floatCount = p.floats.reduce((n, f) => n + f.length, 0);
    view.setUint32(at, floatCount, true);
    at += 4;
    for (const f of p.floats) {
      out.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), at);
      at += f.byteLength;
    }
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

export class LogCorruptionError extends Error {
  override name = 'LogCorruptionError';
}

export function decodeLogBatch(data: Uint8Array): LogEntry[] {
  if (data.length < MAGIC.length + 8 || !MAGIC.every((b, i) => data[i] === b)) {
    throw new LogCorruptionError('not a Conifer log object (bad magic)');
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.length - 4;
  if (view.getUint32(end, true) !== crc32(data.subarray(0, end))) throw new LogCorruptionError('log object checksum mismatch');
  let at = MAGIC.length;
  const count = view.getUint32(at, true);
  at += 4;
  const entries: LogEntry[] = [];
  for (let e = 0; e < count; e++) {
    const lsn = view.getFloat64(at, true);
    at += 8;
    const jsonLength = view.getUint32(at, true);
    at += 4;
    const json = JSON.parse(decoder.decode(data.subarray(at, at + jsonLength))) as OpJson;
    at += jsonLength;
    const floatCount = view.getUint32(at, true);
    at += 4;
    // Copy: the decoded vectors outlive the object buffer and must be 4-byte aligned.
    const floats = new Float32Array(floatCount);
    new Uint8Array(floats.buffer).set(data.subarray(at, at + floatCount * 4));
    at += floatCount * 4;
    entries.push({ lsn, op: joinOp(json, floats) });
  }
  if (at !== end) throw new LogCorruptionError('log object has trailing bytes');
  return entries;
}

function joinOp(json: OpJson, floats: Float32Array): LogOp {
  switch (json.k) {
    case 'put': {
      const records: PutRecord[] = [];
      let offset = 0;
      json.ids!.forEach((id, i) => {
        const dim = json.dims![i]!;
        const md = json.md![i];
        const sparse = sparseFromJson(json.sp?.[i]);
        records.push({ id, values: floats.subarray(offset, offset + dim), ...(sparse ? { sparse } : {}), ...(md ? { metadata: md } : {}) });
        offset += dim;
      });
      return { kind: 'put', records };
    }
    case 'update':
      return {
        kind: 'update',
        ids: json.ids!,
        ...(json.hasValues ? { values: floats } : {}),
        ...(json.sp?.[0] ? { sparse: sparseFromJson(json.sp[0]) } : {}),
        ...(json.setMetadata ? { setMetadata: json.setMetadata } : {}),
      };
    case 'delete':
      return { kind: 'delete', ids: json.ids! };
    case 'deleteAll':
      return { kind: 'deleteAll' };
  }
}
