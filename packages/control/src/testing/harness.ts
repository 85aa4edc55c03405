import { afterAll, beforeAll } from 'vitest';
import { createControlPlane, type ControlPlane, type ControlPlaneOptions } from '../control-plane.ts';
import { BASE36_LOWER, randomString } from '../ids.ts';
import type { Backend, TestDatabase } from './backends.ts';

/** A control plane shared by the tests of one `describe`, on a fresh database of `backend`. */
export interface SharedControlPlane {
  readonly cp: ControlPlane;
  readonly database: TestDatabase;
}

/**
 * Opens one control plane for the enclosing `describe` (PGlite takes seconds to start, so tests
 * share it and isolate themselves with `uniqueName` projects).
 */
export function useControlPlane(backend: Backend, extra: Partial<ControlPlaneOptions> = {}): SharedControlPlane {
  let database: TestDatabase | undefined;
  let cp: ControlPlane | undefined;
  beforeAll(async () => {
    database = await backend.create();
    cp = await createControlPlane({ ...database.options, ...extra });
  });
  afterAll(async () => {
    await cp?.close();
    await database?.dispose();
  });
  return {
    get cp() {
      if (cp === undefined) throw new Error('control plane not open yet');
      return cp;
    },
    get database() {
      if (database === undefined) throw new Error('database not created yet');
      return database;
    },
  };
}

/** Runs `fn` with a control plane on its own fresh database, then closes and drops it. */
export async function withFreshControlPlane<T>(
  backend: Backend,
  fn: (cp: ControlPlane, database: TestDatabase) => Promise<T>,
  extra: Partial<ControlPlaneOptions> = {},
): Promise<T> {
  const database = await backend.create();
  try {
    const cp = await createControlPlane({ ...database.options, ...extra });
    try {
      return await fn(cp, database);
    } finally {
      await cp.close();
    }
  } finally {
    await database.dispose();
  }
}

/** A name no other test uses, e.g. for a per-test project. */
export function uniqueName(prefix = 'p'): string {
  return `${prefix}-${randomString(BASE36_LOWER, 8)}`;
}
