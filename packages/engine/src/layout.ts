/**
 * Where a namespace lives in the object store (DESIGN.md "Storage layout"):
 *
 *   <index-id>/<ns>/log/<first lsn, 20 digits>
 *   <index-id>/<ns>/slabs/<id>.slab
 *   <index-id>/<ns>/manifest/<version, 20 digits>
 *   <index-id>/_namespaces/<ns>          registry marker: the namespace exists (or is being deleted)
 *
 * Namespace names are user strings, so <ns> is an encoding: "ns_" followed by the name with every
 * character outside [A-Za-z0-9._-] percent-encoded. It is reversible, never empty ("" → "ns_"),
 * never "." or "..", and cannot collide with "_namespaces".
 */
export function encodeNamespace(name: string): string {
  let out = 'ns_';
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function decodeNamespace(encoded: string): string {
  if (!encoded.startsWith('ns_')) throw new Error(`not an encoded namespace: ${encoded}`);
  return decodeURIComponent(encoded.slice(3));
}

export function indexPrefix(indexId: string): string {
  return `${indexId}/`;
}
export function namespacePrefix(indexId: string, namespace: string): string {
  return `${indexId}/${encodeNamespace(namespace)}/`;
}
export function registryPrefix(indexId: string): string {
  return `${indexId}/_namespaces/`;
}
export function registryKey(indexId: string, namespace: string): string {
  return registryPrefix(indexId) + encodeNamespace(namespace);
}
export function slabKey(nsPrefix: string, slabId: string): string {
  return `${nsPrefix}slabs/${slabId}.slab`;
}

/** Slab ids start with their creation time so GC can tell an in-flight slab from an orphan. */
export function newSlabId(now = Date.now()): string {
  const random = Math.floor(Math.random() * 36 ** 8).toString(36).padStart(8, '0');
  return `${now.toString(36).padStart(9, '0')}-${random}`;
}
export function slabIdTime(slabId: string): number {
  return parseInt(slabId.slice(0, 9), 36);
}
