/** Text forms of addresses, built only for packets that become events or alerts. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The text is written here as latin1 bytes and made into one flat string: pieces joined made a tree of strings per address. */
const scratch = Buffer.alloc(48);
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * RFC 5952 text form: lower-case hex, the longest run of two or more zero groups as ::, IPv4-mapped kept dotted.
 * Written as bytes: an array, a closure and toString(16) per group took ~3 us an address, and an IPv6 flood of new
 * sources makes one or two per packet (bench/RESULTS.md, "IPv6 addresses as text").
 */
export function ipv6ToString(b: Uint8Array, p: number): string {
  if (b[p + 10] === 0xff && b[p + 11] === 0xff && zeroGroups(b, p, 0, 5) === 5) {
    return `::ffff:${b[p + 12]}.${b[p + 13]}.${b[p + 14]}.${b[p + 15]}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    const n = zeroGroups(b, p, i, 8);
    if (n === 0) {
      i++;
      continue;
    }
    if (n > bestLen) {
      bestAt = i;
      bestLen = n;
    }
    i += n;
  }
  let n: number;
  if (bestAt < 0) {
    n = writeGroups(b, p, 0, 8, 0);
  } else {
    n = writeGroups(b, p, 0, bestAt, 0);
    scratch[n++] = 58;
    scratch[n++] = 58;
    n = writeGroups(b, p, bestAt + bestLen, 8, n);
  }
  return scratch.toString('latin1', 0, n);
}

/** Groups [from, to) at scratch[n], joined by ':'; the new end. */
function writeGroups(b: Uint8Array, p: number, from: number, to: number, n: number): number {
  for (let i = from; i < to; i++) {
    if (i > from) scratch[n++] = 58;
    n = writeHexGroup(b[p + 2 * i], b[p + 2 * i + 1], n);
  }
  return n;
}

/** A 16-bit group's hex without leading zeros at scratch[n]; the new end. */
function writeHexGroup(hi: number, lo: number, n: number): number {
  if (hi >= 16) scratch[n++] = HEX_DIGITS[hi >> 4];
  if (hi > 0) scratch[n++] = HEX_DIGITS[hi & 15];
  if (hi > 0 || lo >= 16) scratch[n++] = HEX_DIGITS[lo >> 4];
  scratch[n++] = HEX_DIGITS[lo & 15];
  return n;
}

/** How many zero groups start at group i (before group end). */
function zeroGroups(b: Uint8Array, p: number, i: number, end: number): number {
  let j = i;
  while (j < end && b[p + 2 * j] === 0 && b[p + 2 * j + 1] === 0) j++;
  return j - i;
}
