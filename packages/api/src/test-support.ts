import { afterAll, beforeAll } from 'vitest';
import { createControlPlane, type ControlPlane, type PortRange } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { createEngine, type Engine } from '@conifer/engine';
import { MemoryObjectStore } from '@conifer/storage';
import { createCaller } from './router.ts';
import type { ImportServiceOptions } from './import-service.ts';
import type { RateLimits } from './rate-limits.ts';
import { createServices, type Services } from './services.ts';

/** A real control plane (in-memory PGlite) and a real engine over an in-memory object store. */
export interface Stack {
  control: ControlPlane;
  engine: Engine;
  services: Services;
  /** Plaintext admin key of the default project. */
  adminKey: string;
  projectId: string;
  /** A tRPC caller presenting `apiKey` (none when undefined). */
  caller(apiKey: string | undefined): ReturnType<typeof createCaller>;
}

/** Opens one stack for the enclosing `describe` and closes it after. */
export function useStack(
  options: { rateLimits?: Partial<RateLimits>; now?: () => number; indexHostPorts?: PortRange; imports?: ImportServiceOptions } = {},
): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    const control = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
    const engine = await createEngine({ store: new MemoryObjectStore() });
    const { project, apiKey } = await control.bootstrap();
    if (apiKey === undefined) throw new Error('bootstrap created no key');
    const services = createServices({ control, data: engine, operatorProjectId: project.id, ...options });
    stack = { control, engine, services, adminKey: apiKey, projectId: project.id, caller: (key) => createCaller({ services, apiKey: key }) };
  });
  afterAll(async () => {
    await stack?.engine.close();
    await stack?.control.close();
  });
  return () => {
    if (!stack) throw new Error('stack not open yet');
    return stack;
  };
}

let counter = 0;
/** An index name no other test of the run uses. */
export function uniqueIndexName(prefix = 'idx'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
