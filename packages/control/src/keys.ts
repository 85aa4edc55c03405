import { hash, timingSafeEqual } from 'node:crypto';
import { BASE62, randomString } from './ids.ts';

/** Every generated key starts with this, so leaked keys are easy to recognise and scan for. */
export const API_KEY_PREFIX = 'cnf_';
/** Random base62 characters after the prefix (~238 bits). */
export const API_KEY_RANDOM_LENGTH = 40;
/** Characters of the key kept in the database for listings. */
export const DISPLAY_PREFIX_LENGTH = 8;
/** Longer strings are rejected without hashing: no key is that long. */
export const MAX_API_KEY_LENGTH = 1024;

/**
 * A new API key: `cnf_` + 40 random base62 characters. Shown to the user once, never stored.
 *
 * @example generateApiKey() // 'cnf_3xT0q…'
 */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomString(BASE62, API_KEY_RANDOM_LENGTH);
}

/**
 * The stored form of a key: sha256 of the whole string, lowercase hex. Any string can be hashed,
 * so an operator-chosen bootstrap key works as well as a generated one.
 *
 * @example hashApiKey('cnf_abc') // 64 hex characters
 */
export function hashApiKey(key: string): string {
  // The one-shot hash: no Hash object per request.
  return hash('sha256', key, 'hex');
}

/** The part of a key shown in listings: its first 8 characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/**
 * Compares two hex hashes in constant time (`crypto.timingSafeEqual`); false on any length or
 * format mismatch.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  if (left.length === 0 || left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
