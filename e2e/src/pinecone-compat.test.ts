import { rm } from 'node:fs/promises';
import { pineconeCompatSuite } from './pinecone-compat-suite.ts';
import { startServer, tempDataDir } from './server-process.ts';

/**
 * The compatibility suite (pinecone-compat-suite.ts) against a server process as `npm start` runs
 * it, with Pinecone's own rate limits turned on as an operator hosting tenants would (a node has
 * none by default), so the client meets the 429s it would meet at Pinecone.
 */
pineconeCompatSuite('a Conifer server process', async () => {
  const dataDir = await tempDataDir();
  const server = await startServer({ dataDir, env: { CONIFER_RATE_LIMITS: 'on' } });
  return {
    url: server.url,
    apiKey: server.apiKey,
    stop: async () => {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
