import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSeries } from './server-process.ts';

const METRICS = [
  '# HELP conifer_memory_budget_bytes The memory budget.',
  '# TYPE conifer_memory_budget_bytes gauge',
  'conifer_memory_budget_bytes 3221225472',
  'conifer_memory_used_bytes{kind="slabs",role="writer"} 2116198972',
  'conifer_namespaces_open{role="writer"} 3',
  'conifer_slab_pages_read_bytes 56411614060',
  'conifer_slab_pages_read_bytes_total 1',
  'process_resident_memory_bytes 400',
].join('\n');

describe('metricSeries', () => {
  let url = '';
  const server = createServer((_req, res) => res.end(METRICS));
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('keeps the series whose whole name matches, by name with labels', async () => {
    expect(await metricSeries(url, /conifer_memory_\w+|conifer_slab_pages_read_bytes/)).toEqual({
      conifer_memory_budget_bytes: 3221225472,
      'conifer_memory_used_bytes{kind="slabs",role="writer"}': 2116198972,
      conifer_slab_pages_read_bytes: 56411614060,
    });
    expect(await metricSeries(url, /conifer_namespaces_\w+/)).toEqual({ 'conifer_namespaces_open{role="writer"}': 3 });
  });
});
