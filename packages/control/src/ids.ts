import { randomBytes } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const BASE36_LOWER = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * `length` characters drawn uniformly from `alphabet` with `crypto.randomBytes` (rejection
 * sampling, so no modulo bias).
 *
 * @example randomString(BASE62, 40) // 'q3ZrT0…'
 */
export function randomString(alphabet: string, length: number): string {
  if (alphabet.length < 2 || alphabet.length > 256) throw new RangeError('alphabet must have 2–256 characters');
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Row-id prefixes. Ids are `[a-z0-9_]` because index ids double as storage prefixes. */
export type IdKind = 'prj' | 'key' | 'idx' | 'node' | 'job';

/**
 * A new random id: the kind, '_', then 20 lowercase base36 characters (~103 bits).
 *
 * @example newId('idx') // 'idx_k2m0v9c4q1x7p3z8w5r6'
 */
export function newId(kind: IdKind): string {
  return `${kind}_${randomString(BASE36_LOWER, 20)}`;
}
