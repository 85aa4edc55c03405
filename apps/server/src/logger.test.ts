import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { startServer, TEST_API_KEY } from './test-support.ts';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('logging', () => {
  it('redacts API keys in request headers', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    logger.info({ req: { headers: { 'api-key': 'cnf_secret_1', authorization: 'Bearer cnf_secret_2' } } }, 'incoming');
    expect(out.text()).not.toContain('cnf_secret');
    expect(out.text()).toContain('[redacted]');
  });

  it('never writes the key of a request to the log', async () => {
    const out = capture();
    const running = await startServer({ CONIFER_LOG_LEVEL: 'trace' }, { logger: createLogger('trace', out.stream) });
    try {
      await running.client.listIndexes();
      await running
        .clientWithKey('cnf_a_wrong_key_1234567890')
        .listIndexes()
        .catch(() => undefined);
      await fetch(`${running.url}/trpc/indexes.list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      });
    } finally {
      await running.stop();
    }
    expect(out.text()).toContain('request completed');
    expect(out.text()).not.toContain(TEST_API_KEY);
    expect(out.text()).not.toContain('cnf_a_wrong_key');
  });

  it('logs an unexpected error for operators but sends clients no details', async () => {
    const out = capture();
    const running = await startServer({}, { logger: createLogger('info', out.stream) });
    try {
      running.server.services!.listIndexes = async () => {
        throw new Error('connect ECONNREFUSED 10.1.2.3:5432 (secret-host)');
      };
      const response = await fetch(`${running.url}/trpc/indexes.list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': TEST_API_KEY },
      });
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({
        error: { message: 'Internal server error.', code: -32603, data: { code: 'INTERNAL', httpStatus: 500, path: 'indexes.list' } },
      });
      expect(body).not.toContain('secret-host');
    } finally {
      await running.stop();
    }
    expect(out.text()).toContain('secret-host');
    expect(out.text()).toContain('procedure failed');
  });
});
