import { describe, expect, it } from 'vitest';
import { PermissionDeniedError } from '@conifer/core';
import { apiKeyFromHeaders, assertCanWrite } from './auth.ts';

describe('apiKeyFromHeaders', () => {
  it('reads the Api-Key header', () => {
    expect(apiKeyFromHeaders({ 'api-key': 'cnf_abc' })).toBe('cnf_abc');
  });
  it('reads a bearer token', () => {
    expect(apiKeyFromHeaders({ authorization: 'Bearer cnf_abc' })).toBe('cnf_abc');
    expect(apiKeyFromHeaders({ authorization: 'bearer   cnf_abc ' })).toBe('cnf_abc');
  });
  it('prefers Api-Key over Authorization', () => {
    expect(apiKeyFromHeaders({ 'api-key': 'one', authorization: 'Bearer two' })).toBe('one');
  });
  it('ignores other schemes and empty values', () => {
    expect(apiKeyFromHeaders({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(apiKeyFromHeaders({ 'api-key': '  ' })).toBeUndefined();
    expect(apiKeyFromHeaders({})).toBeUndefined();
  });
});

describe('assertCanWrite', () => {
  it('lets admin and read-write keys write', () => {
    expect(() => assertCanWrite({ projectId: 'p', keyId: 'k', role: 'admin' }, 'upsert')).not.toThrow();
    expect(() => assertCanWrite({ projectId: 'p', keyId: 'k', role: 'read-write' }, 'upsert')).not.toThrow();
  });
  it('refuses read-only keys', () => {
    expect(() => assertCanWrite({ projectId: 'p', keyId: 'k', role: 'read-only' }, 'upsert')).toThrow(PermissionDeniedError);
  });
});
