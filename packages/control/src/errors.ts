import { PermissionDeniedError } from '@conifer/core';

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
