import { setFlagsFromString } from 'node:v8';
import { lowerProcessPriority, type ProcessPriority } from '@conifer/index-builder';
import type { NodeRole } from '@conifer/control';
import { isIndexerOnly } from './config.ts';

/**
 * V8 flag that counts memory outside the JS heap (ArrayBuffers: every chunk a socket reads) into
 * the heap's own growing limit, instead of starting a full collection each time it has grown by
 * 64 MiB. A node taking upserts receives bodies of up to 2 MB each as fresh chunks, and a writer
 * also encodes log batches and builds slabs in fresh buffers: under the default a gateway ran a
 * full collection every dozen or so upserts, each pausing its event loop (the one that also
 * forwards queries), and a writer every fifteen or so, with its helper threads marking the heap
 * on the core that takes the writes.
 */
export const EXTERNAL_MEMORY_V8_FLAG = '--external-memory-accounted-in-global-limit';

/**
 * With the flag above, the garbage a process lets grow is a factor of its live memory, ArrayBuffers
 * included; V8 picks that factor (up to 4×) from how fast it collects. A writer's live buffers are
 * its memtables, which can be large, so its factor is fixed at 3: garbage up to twice its live
 * memory, not three times it. At 2 its helper threads' marking took about a fifth of the core that
 * takes the writes (ADR 0006 addendum).
 */
export const HEAP_GROWING_V8_FLAG = '--heap-growing-percent=200';

/** The V8 flags of each tuned kind of node. */
export const V8_FLAGS = {
  gateway: [EXTERNAL_MEMORY_V8_FLAG],
  writer: [EXTERNAL_MEMORY_V8_FLAG, HEAP_GROWING_V8_FLAG],
} as const;

/** What {@link tuneProcessForRoles} changed, for the start-up log. */
export type ProcessTuning =
  { kind: 'indexer'; niceness: number; priority: ProcessPriority } | { kind: 'gateway' | 'writer'; v8Flags: readonly string[] } | { kind: 'none' };

/**
 * Process-wide settings made before the server is built (so the threads it starts inherit them),
 * for nodes whose roles allow them (ADR 0006 addenda):
 * - an indexer-only node yields the CPU;
 * - a gateway-only node collects its forwarded bodies' garbage in step with its heap;
 * - a writer without the query role does too, with its garbage bounded by its live memory. Such a
 *   writer keeps slabs in memory only for namespaces it is asked to read (none while a query node
 *   is live). A node that serves queries (the query role, the single process) holds its slabs
 *   outside the heap, which would let its garbage grow with them, so it keeps V8's default.
 */
export function tuneProcessForRoles(roles: readonly NodeRole[], compactionNiceness: number): ProcessTuning {
  if (isIndexerOnly(roles)) {
    return { kind: 'indexer', niceness: compactionNiceness, priority: lowerProcessPriority(compactionNiceness) };
  }
  const kind = roles.length === 1 && roles[0] === 'gateway' ? 'gateway' : roles.includes('writer') && !roles.includes('query') ? 'writer' : undefined;
  if (!kind) return { kind: 'none' };
  for (const flag of V8_FLAGS[kind]) setFlagsFromString(flag);
  return { kind, v8Flags: V8_FLAGS[kind] };
}
