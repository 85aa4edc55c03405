import { rm } from 'node:fs/promises';
import { pineconeCompatSuite } from './pinecone-compat-suite.ts';
import { freePortRange, startServer, tempDataDir } from './server-process.ts';

/**
 * The compatibility suite (pinecone-compat-suite.ts) against a server process as `npm start` runs
 * it — each index on a port of its own (CONIFER_INDEX_HOSTS=ports, `npm start`'s default; the tests
 * pick a free range) — with Pinecone's own rate limits turned on as an operator hosting tenants
 * would (a node has none by default), so the client meets the 429s it would meet at Pinecone.
 */
pineconeCompatSuite('a Conifer server process', async () => {
  const dataDir = await tempDataDir();
  const ports = await freePortRange(20);
  const server = await startServer({
    dataDir,
    env: { CONIFER_RATE_LIMITS: 'on', CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${ports.first}-${ports.last}` },
  });
  return {
    url: server.url,
    apiKey: server.apiKey,
    indexHosts: 'ports',
    stop: async () => {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
