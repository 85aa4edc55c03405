import { FencedError, UnavailableError } from '@conifer/core';
import { ManifestConflictError, manifestKey } from '@conifer/manifest';
import type { ObjectStore } from '@conifer/storage';
import { displayName } from './layout.ts';

/**
 * The writer fence of one namespace: whether this process's view owns the namespace and may still
 * acknowledge writes.
 *
 * A view owns the namespace once it has committed a manifest version under a new writer epoch (a
 * takeover, done lazily by the first write or flush). It loses ownership when another writer
 * commits a version it did not write: that writer has taken over, and its flush may cover — and
 * its GC delete — log objects at LSNs this view would append at (put-if-absent cannot detect the
 * reuse of a deleted key). Two checks keep a fenced writer from acknowledging anything:
 *
 * - `check`, before a log object is written (one HEAD of the next manifest version): a view known
 *   to be stale writes nothing, so its callers may retry the write on the new owner;
 * - `confirm`, after the object is durable and before it is acknowledged (HEADs of the next and of
 *   the current version, in parallel): if neither a newer version exists nor the current one was
 *   collected, no takeover had committed when the object landed, so the new owner's replay — which
 *   follows its takeover commit — reads it. A writer paused for any length of time between check
 *   and write (SIGSTOP, a long pause) therefore acknowledges nothing once it resumes.
 *
 * Versions are deleted oldest first and never the collector's current one, so a collected current
 * version means a newer one exists even when the next one has been collected too.
 */
export class WriterFence {
  readonly #store: ObjectStore;
  readonly #manifestPrefix: string;
  readonly #namespace: string;
  /** Manifest version this process is committing right now (not someone else's). */
  #committingVersion = 0;
  #stale = false;
  /** The writer epoch this view owns the namespace at; 0 until it has taken it over. */
  #epoch = 0;

  constructor(options: { store: ObjectStore; manifestPrefix: string; namespace: string }) {
    this.#store = options.store;
    this.#manifestPrefix = options.manifestPrefix;
    this.#namespace = options.namespace;
  }

  /** True once another writer has advanced the manifest. */
  get stale(): boolean {
    return this.#stale;
  }

  /** The epoch this view owns the namespace at, 0 when it does not (yet). */
  get epoch(): number {
    return this.#stale ? 0 : this.#epoch;
  }

  /** Records a takeover committed by this view. */
  owned(epoch: number): void {
    this.#epoch = epoch;
  }

  /** Before an append: throws a retryable FencedError (nothing written) when another writer committed past `currentVersion()`. */
  async check(currentVersion: () => number): Promise<void> {
    if (this.#stale) throw this.#fenced(false);
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
    throw this.#fenced(false);
  }

  /**
   * After an append is durable, before it is acknowledged: throws a FencedError (the write is in the
   * log but not acknowledged) when another writer committed a version meanwhile.
   */
  async confirm(currentVersion: () => number): Promise<void> {
    if (this.#stale) throw this.#fenced(true);
    let overtaken;
    try {
      overtaken = await this.overtaken(currentVersion);
    } catch (err) {
      throw new UnavailableError('the write was logged but could not be confirmed; it may or may not be applied', { cause: err });
    }
    if (overtaken) throw this.#fenced(true);
  }

  /**
   * Whether another writer committed past `currentVersion()` (a newer version exists, or the current
   * one was collected); marks the view stale if so. Also explains a hole in the log below another
   * writer's flushed LSN: it collected those objects.
   */
  async overtaken(currentVersion: () => number): Promise<boolean> {
    if (this.#stale) return true;
    const base = currentVersion();
    const [newer, current] = await Promise.all([this.#exists(base + 1), base > 0 ? this.#exists(base) : true]);
    const ours = base + 1 === this.#committingVersion || base + 1 <= currentVersion();
    // Our own collector removes `base` only after our view has moved past it.
    const collectedByOther = !current && currentVersion() === base;
    if ((newer && !ours) || collectedByOther) this.#stale = true;
    return this.#stale;
  }

  /** The error a stale view's writes get (see FencedError). */
  fencedError(): FencedError {
    return this.#fenced(false);
  }

  /**
   * Runs `commit` of manifest `version` as this process's own (the fence then does not take it for
   * another writer's). Losing the race to another writer makes this view stale.
   */
  async committing<T>(version: number, commit: () => Promise<T>): Promise<T> {
    if (this.#stale) throw this.#fenced(false);
    // A base that is gone was collected by a newer writer, or deleted with its namespace: creating
    // the next version would succeed (it may be gone too) and fork the manifest.
    if (version > 1 && !(await this.#exists(version - 1))) {
      this.#stale = true;
      throw this.#fenced(false);
    }
    this.#committingVersion = version;
    let committed: T;
    try {
      committed = await commit();
    } catch (err) {
      this.#committingVersion = 0;
      if (err instanceof ManifestConflictError) {
        this.#stale = true;
        throw this.#fenced(false, err);
      }
      throw err;
    }
    // The same after the commit: had a newer writer collected `version` (and its base) while this
    // one stalled, the create succeeded on a collected key. Seen that way, nothing newer existed
    // when the version landed.
    const [base, newer] = await Promise.all([version > 1 ? this.#exists(version - 1) : true, this.#exists(version + 1)]);
    if (!base || newer) {
      this.#stale = true;
      throw this.#fenced(false);
    }
    return committed;
  }

  async #exists(version: number): Promise<boolean> {
    return (await this.#store.head(manifestKey(this.#manifestPrefix, version))) !== null;
  }

  #fenced(written: boolean, cause?: unknown): FencedError {
    const name = displayName(this.#namespace);
    return new FencedError(
      written
        ? `namespace ${name} was taken over by another writer; this write was logged but not acknowledged, and may or may not be applied`
        : `namespace ${name} was taken over by another writer; retry the write`,
      { written, cause },
    );
  }
}
