import { setFlagsFromString } from 'node:v8';
import { lowerProcessPriority, type ProcessPriority } from '@conifer/index-builder';
import type { NodeRole } from '@conifer/control';

/**
 * V8 flag that counts memory outside the JS heap (ArrayBuffers: every chunk a socket reads) into
 * the heap's own growing limit, instead of starting a full collection each time it has grown by
 * 64 MiB. A gateway forwards upsert bodies of up to 2 MB each, received as fresh chunks: under the
 * default it ran a full collection every dozen or so upserts, each pausing its event loop — the one
 * that also forwards queries — for up to 20 ms. A gateway holds no memory outside the heap that
 * lives long (no slabs, no memtables), so the limit this gives it stays small: in an ingest probe
 * its peak RSS rose by about 75 MB and its full collections fell to a third.
 */
export const GATEWAY_V8_FLAG = '--external-memory-accounted-in-global-limit';

/** What {@link tuneProcessForRoles} changed, for the start-up log. */
export type ProcessTuning = { kind: 'indexer'; niceness: number; priority: ProcessPriority } | { kind: 'gateway'; v8Flag: string } | { kind: 'none' };

/**
 * Process-wide settings for nodes with one job, made before the server is built (so the threads
 * it starts inherit them): an indexer-only node yields the CPU (ADR 0006 addendum); a
 * gateway-only node collects its forwarded bodies' garbage in step with its heap.
 */
export function tuneProcessForRoles(roles: readonly NodeRole[], compactionNiceness: number): ProcessTuning {
  if (roles.length !== 1) return { kind: 'none' };
  if (roles[0] === 'indexer') return { kind: 'indexer', niceness: compactionNiceness, priority: lowerProcessPriority(compactionNiceness) };
  if (roles[0] === 'gateway') {
    setFlagsFromString(GATEWAY_V8_FLAG);
    return { kind: 'gateway', v8Flag: GATEWAY_V8_FLAG };
  }
  return { kind: 'none' };
}
