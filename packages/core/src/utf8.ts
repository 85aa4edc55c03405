/**
 * UTF-8 length of a string without encoding it: it runs once per upserted record (metadata
 * limits, billing units, slab layout), and allocating an encoded copy of each cost more than the
 * rest of a record's validation.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else bytes += 2; // 3 bytes (a lone surrogate encodes as U+FFFD, also 3)
  }
  return bytes;
}
