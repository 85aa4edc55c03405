import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerHealth } from './health.ts';

describe('GET /healthz', () => {
  it('is 200 when every probe answers', async () => {
    const app = Fastify();
    registerHealth(app, { control: async () => 1, store: async () => null });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('is 503 naming the failing checks, without their error text', async () => {
    const app = Fastify();
    registerHealth(app, {
      control: async () => {
        throw new Error('password authentication failed for user "conifer"');
      },
      store: async () => null,
    });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', failing: ['control'] });
    expect(response.body).not.toContain('password');
  });
});
