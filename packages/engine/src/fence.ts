import { UnavailableError } from '@conifer/core';
import { ManifestConflictError, manifestKey } from '@conifer/manifest';
import type { ObjectStore } from '@conifer/storage';

/**
 * The writer fence of one namespace: whether this process's view may still append to the log.
 *
 * A view goes stale when another writer commits a manifest newer than the one it is built on: that
 * writer's flush may have covered — and its GC deleted — log objects at LSNs this view would append
 * at, and put-if-absent cannot detect the reuse of a deleted key. `check` (one HEAD of the next
 * manifest version per group commit) refuses such appends with a retryable error; the engine then
 * reopens the namespace from the newer manifest. Losing a manifest commit race marks the view stale
 * too.
 */
export class WriterFence {
  readonly #store: ObjectStore;
  readonly #manifestPrefix: string;
  readonly #namespace: string;
  /** Manifest version this process is committing right now (not someone else's). */
  #committingVersion = 0;
  #stale = false;

  constructor(options: { store: ObjectStore; manifestPrefix: string; namespace: string }) {
    this.#store = options.store;
    this.#manifestPrefix = options.manifestPrefix;
    this.#namespace = options.namespace;
  }

  /** True once another writer has advanced the manifest. */
  get stale(): boolean {
    return this.#stale;
  }

  /** Throws a retryable error when another writer has committed past `currentVersion()`. */
  async check(currentVersion: () => number): Promise<void> {
    if (this.#stale) throw staleError(this.#namespace);
    const next = currentVersion() + 1;
    if (next === this.#committingVersion) return;
    let newer;
    try {
      newer = await this.#store.head(manifestKey(this.#manifestPrefix, next));
    } catch (err) {
      throw new UnavailableError('the write could not be made durable; retry it', { cause: err });
    }
    if (!newer) return;
    if (next === this.#committingVersion || next <= currentVersion()) return; // our own flush landed meanwhile
    this.#stale = true;
    throw staleError(this.#namespace);
  }

  /**
   * Runs `commit` of manifest `version` as this process's own (the fence then does not take it for
   * another writer's). Losing the race to another writer makes this view stale.
   */
  async committing<T>(version: number, commit: () => Promise<T>): Promise<T> {
    this.#committingVersion = version;
    try {
      return await commit();
    } catch (err) {
      this.#committingVersion = 0;
      if (err instanceof ManifestConflictError) this.#stale = true;
      throw err;
    }
  }
}

function staleError(namespace: string): UnavailableError {
  return new UnavailableError(`namespace ${namespace === '' ? '__default__' : namespace} was advanced by another writer; retry the write`);
}
