import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: every node gets a score for a key, and the key goes
 * to the highest. Every gateway computes the same order from the same membership without talking
 * to the others, and removing a node moves only the keys it won — about 1/N of them — to their
 * second choice; nothing else moves. Used for write ownership (writers) and cache affinity (query
 * nodes).
 */
export function score(key: string, nodeId: string): bigint {
  return createHash('sha256').update(nodeId).update('\u0000').update(key).digest().readBigUInt64BE(0);
}

/** `nodes` best first for `key`; ties (a hash collision) break by id so every caller agrees. */
export function rank<T extends { id: string }>(key: string, nodes: readonly T[]): T[] {
  const scored = nodes.map((node) => ({ node, score: score(key, node.id) }));
  scored.sort((a, b) => (a.score === b.score ? (a.node.id < b.node.id ? -1 : 1) : a.score > b.score ? -1 : 1));
  return scored.map((s) => s.node);
}

/** The routing key of a namespace of an index. */
export function namespaceRoutingKey(indexId: string, namespace: string): string {
  return `${indexId}\u0000${namespace}`;
}
