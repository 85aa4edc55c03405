import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { RequestLogger, requestLinesDisabled } from './request-logger.ts';
import { startServer, TEST_API_KEY } from './test-support.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('RequestLogger', () => {
  it('makes no child while nothing is logged at an enabled level, and logs like a child once something is', () => {
    const out = capture();
    const parent = createLogger('info', out.stream);
    let children = 0;
    const child = parent.child.bind(parent);
    parent.child = ((...args: Parameters<typeof parent.child>) => {
      children++;
      return child(...args);
    }) as typeof parent.child;
    const log = new RequestLogger(parent, { reqId: 'req-7' }, {});
    log.debug('not at info');
    log.trace({ a: 1 }, 'nor this');
    expect(children).toBe(0);
    expect(log.level).toBe('info');
    log.info({ route: '/query' }, 'hello');
    log.warn('twice');
    expect(children).toBe(1);
    expect(out.lines().map((l) => [l['reqId'], l['msg'], l['route']])).toEqual([
      ['req-7', 'hello', '/query'],
      ['req-7', 'twice', undefined],
    ]);
  });

  it('follows a level set on it, not the parent', () => {
    const out = capture();
    const parent = createLogger('warn', out.stream);
    const log = new RequestLogger(parent, { reqId: 'req-1' }, {});
    log.level = 'debug';
    log.debug('now shown');
    expect(parent.level).toBe('warn');
    expect(out.lines().map((l) => l['msg'])).toEqual(['now shown']);
  });

  it('writes request lines from debug down only', () => {
    expect(requestLinesDisabled(createLogger('info'))).toBe(true);
    expect(requestLinesDisabled(createLogger('warn'))).toBe(true);
    expect(requestLinesDisabled(createLogger('debug'))).toBe(false);
    expect(requestLinesDisabled(createLogger('trace'))).toBe(false);
  });
});

describe('request logging of the server', () => {
  for (const [level, lines] of [
    ['info', 0],
    ['debug', 1],
  ] as const) {
    it(`at ${level}: ${lines ? 'a' : 'no'} "request completed" line per request, with its request id`, async () => {
      const out = capture();
      const running = await startServer({ CONIFER_LOG_LEVEL: level }, { logger: createLogger(level, out.stream) });
      try {
        const answer = await fetch(`${running.url}/indexes`, { headers: { 'api-key': TEST_API_KEY } });
        expect(answer.status).toBe(200);
      } finally {
        await running.stop();
      }
      const completed = out.lines().filter((l) => l['msg'] === 'request completed');
      expect(completed).toHaveLength(lines);
      for (const line of completed) expect(line['reqId']).toMatch(/^req-/);
    });
  }
});
