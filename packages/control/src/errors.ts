import { PermissionDeniedError, ResourceExhaustedError } from '@conifer/core';
import type { PortRange } from './types.ts';

/**
 * A delete refused because the index has deletion protection enabled. A `PermissionDeniedError`
 * (HTTP 403) like any other refusal; its own class lets the Pinecone face answer with the
 * `FORBIDDEN` code Pinecone uses for exactly this case.
 */
export class DeletionProtectedError extends PermissionDeniedError {
  constructor() {
    super('Deletion protection is enabled for this index. Disable deletion protection before retrying.');
  }
}

/**
 * No port of the index port range is free, so no index can be created. A `ResourceExhaustedError`
 * (HTTP 429); its own class lets a face answer as it answers a quota (Pinecone: 403 `FORBIDDEN`),
 * since retrying will not help until an index is deleted or the range widened. The message names the
 * server setting the range comes from, for the operator who reads it.
 */
export class IndexPortsExhaustedError extends ResourceExhaustedError {
  readonly range: PortRange;
  constructor(range: PortRange) {
    const size = range.last - range.first + 1;
    super(`no free index port: all ${size} ports of CONIFER_INDEX_PORTS (${range.first}-${range.last}) are held by live indexes; widen the range`);
    this.range = { ...range };
  }
}
