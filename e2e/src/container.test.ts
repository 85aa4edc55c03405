import { describe, expect, it } from 'vitest';
import { containerTestsBlocked, startConiferContainer } from '@conifer/emulators';
import { durabilitySuite } from './container-durability.ts';
import { pineconeCompatSuite } from './pinecone-compat-suite.ts';

/**
 * Conifer's image (`npm run images`, tags conifer:local) as a container through testcontainers,
 * configured only by environment as an operator runs it: the official Pinecone client's suite
 * against it, and no acknowledged write lost across a restart or a `docker kill` mid-upsert.
 * `npm test` starts an engine and builds the image first; where it cannot, these tests fail with
 * the reason rather than skip.
 */
const API_KEY = 'container-admin-key-0123456789';
const blocked = await containerTestsBlocked();

describe('the Conifer image can run here', () => {
  it('has a Docker engine and the conifer:local image', () => {
    expect(blocked, blocked).toBeUndefined();
  });
});

if (!blocked) {
  pineconeCompatSuite('Conifer in a container (conifer:local)', async () => {
    const started = await startConiferContainer({ apiKey: API_KEY, env: { CONIFER_RATE_LIMITS: 'on' } });
    return { url: started.url(), apiKey: API_KEY, stop: () => started.stop() };
  });

  durabilitySuite('Conifer in a container (local disk, PGlite)', () => startConiferContainer({ apiKey: API_KEY }));
}
