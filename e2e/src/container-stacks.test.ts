import { describe, expect, it } from 'vitest';
import { CONIFER_IMAGE, containerTestsBlocked, STACK_IMAGES, startConiferStack, type StackStore } from '@conifer/emulators';
import { durabilitySuite } from './container-durability.ts';
import { pineconeCompatSuite } from './pinecone-compat-suite.ts';

/**
 * The image as deployed on a cloud: Conifer's container with its control plane in a PostgreSQL
 * container and its data in a bucket of an emulator container — MinIO (S3), fake-gcs-server (GCS)
 * and Azurite (Azure Blob) — on a network of their own, configured only by CONIFER_DATABASE_URL,
 * CONIFER_STORAGE and the cloud's standard variables. Per store: the official Pinecone client's
 * suite, and no acknowledged write lost across a restart or a `docker kill` mid-upsert. The images
 * are built by `npm run images` (npm test does it first); where they cannot run the tests fail with
 * the reason.
 */
const API_KEY = 'stack-admin-key-0123456789';
const STORES: { store: StackStore; label: string }[] = [
  { store: 's3', label: 'S3 (MinIO)' },
  { store: 'gcs', label: 'GCS (fake-gcs-server)' },
  { store: 'azure', label: 'Azure Blob (Azurite)' },
];
const blocked = await containerTestsBlocked([CONIFER_IMAGE, ...Object.values(STACK_IMAGES)]);

describe('the stack images can run here', () => {
  it('has a Docker engine, conifer:local and the PostgreSQL and emulator images', () => {
    expect(blocked, blocked).toBeUndefined();
  });
});

if (!blocked) {
  for (const { store, label } of STORES) {
    pineconeCompatSuite(`Conifer in a container on PostgreSQL and ${label}`, async () => {
      const stack = await startConiferStack(store, { apiKey: API_KEY, env: { CONIFER_RATE_LIMITS: 'on' } });
      return { url: stack.url(), apiKey: API_KEY, stop: () => stack.stop() };
    });
    durabilitySuite(`Conifer in a container on PostgreSQL and ${label}`, () => startConiferStack(store, { apiKey: API_KEY }));
  }
}
