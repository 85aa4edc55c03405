import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@conifer/core';
import { afterOf, decodePageToken, encodePageToken, paginationOf } from './pagination.ts';

describe('page tokens', () => {
  it('keeps the wire format clients already hold: base64url JSON {"after": key}', () => {
    expect(encodePageToken('doc#7')).toBe(Buffer.from('{"after":"doc#7"}').toString('base64url'));
    expect(decodePageToken(Buffer.from('{"after":"doc#7"}').toString('base64url'), 'list')).toBe('doc#7');
  });

  it('round-trips any key', () => {
    for (const key of ['', 'a', '__proto__', 'ключ', '\u0000x', 'x'.repeat(512)]) expect(decodePageToken(encodePageToken(key), 'list')).toBe(key);
  });

  it('refuses anything else as a 400 naming the field and the call', () => {
    for (const bad of ['%%%', Buffer.from('{"after":3}').toString('base64url'), Buffer.from('[]').toString('base64url'), '']) {
      let error: unknown;
      try {
        decodePageToken(bad, 'list namespaces');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message).toBe('paginationToken: not a token returned by list namespaces');
      expect((error as InvalidArgumentError).issues[0]!.path).toEqual(['paginationToken']);
    }
  });

  it('shapes the response: no pagination on the last page', () => {
    expect(paginationOf(undefined)).toEqual({});
    expect(paginationOf('b')).toEqual({ pagination: { next: encodePageToken('b') } });
    expect(afterOf(undefined, 'list')).toBeUndefined();
    expect(afterOf(encodePageToken('b'), 'list')).toBe('b');
  });
});
