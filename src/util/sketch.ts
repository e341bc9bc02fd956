/**
 * Distinct counting in fixed memory: a HyperLogLog of 256 one-byte registers (standard error about 6.5 %), for
 * sets that may grow without bound, such as the targets of a scan spread over a day. Exact sets are kept while
 * they are small; a sketch takes over when a cap or the global budget says so. The harmonic sum and the count of
 * empty registers are kept up to date on every change, so a count costs O(1), not a pass over the registers.
 */
import { fmix32 } from './hash';

export interface Sketch {
  reg: Uint8Array;
  sum: number;
  zeros: number;
}

export const SKETCH_REGISTERS = 256;
const P = 8;
const ALPHA = 0.7213 / (1 + 1.079 / SKETCH_REGISTERS);

export function createSketch(): Sketch {
  return { reg: new Uint8Array(SKETCH_REGISTERS), sum: SKETCH_REGISTERS, zeros: SKETCH_REGISTERS };
}

/**
 * FNV-1a over the UTF-16 code units, then a finaliser so that the low and high bits are both well mixed. The hash is
 * a contract between sensors: a fleet merges the registers of sensors' summaries (fleet-summary.ts), so every
 * version must hash the same key to the same value.
 */
export function hashString(s: string): number {
  return fmix32(fnvText(FNV_START, s));
}

/** FNV-1a's start; fnv* continue a hash over more text, fmix32 ends it (hashString's value for the whole text). */
export const FNV_START = 0x811c9dc5;

export function fnvText(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = fnvChar(h, s.charCodeAt(i));
  return h;
}

export function fnvChar(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

/** The decimal text of a non-negative integer below 2^53, as fnvText would hash it, without making the text. */
export function fnvDecimal(h: number, n: number): number {
  // Octets and ports, the common keys, in small integer steps; longer numbers digit by digit, the leading ones first.
  if (n < 10) return fnvChar(h, 48 + n);
  if (n < 100) return fnvChar(fnvChar(h, 48 + ((n / 10) | 0)), 48 + (n % 10));
  if (n < 1000) return fnvChar(fnvChar(fnvChar(h, 48 + ((n / 100) | 0)), 48 + (((n / 10) | 0) % 10)), 48 + (n % 10));
  return fnvChar(fnvDecimal(h, Math.floor(n / 10)), 48 + (n % 10));
}

/** An IPv4 address (a 32-bit number) as dotted-decimal text, as fnvText would hash it. */
export function fnvIpv4(h: number, a: number): number {
  h = fnvDecimal(h, a >>> 24);
  h = fnvDecimal(fnvChar(h, 46), (a >>> 16) & 255);
  h = fnvDecimal(fnvChar(h, 46), (a >>> 8) & 255);
  return fnvDecimal(fnvChar(h, 46), a & 255);
}

/** Adds a key; true when a register changed (only then can the count have changed). */
export function sketchAdd(k: Sketch, key: string): boolean {
  return sketchAddHash(k, hashString(key));
}

/** Adds a key by its hash (hashString's value, or fmix32 of the fnv* functions' over the key's text). */
export function sketchAddHash(k: Sketch, h: number): boolean {
  const idx = h >>> (32 - P);
  // Rank of the first set bit in the remaining 24 bits (1-based); 25 when they are all zero.
  const rest = (h << P) >>> 0;
  const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
  const old = k.reg[idx];
  if (rank <= old) return false;
  k.reg[idx] = rank;
  k.sum += 2 ** -rank - 2 ** -old;
  if (old === 0) k.zeros--;
  return true;
}

export function sketchCount(k: Sketch): number {
  const raw = (ALPHA * SKETCH_REGISTERS * SKETCH_REGISTERS) / k.sum;
  // Small ranges: linear counting is far more accurate while registers are still empty.
  if (raw <= 2.5 * SKETCH_REGISTERS && k.zeros > 0) return Math.round(SKETCH_REGISTERS * Math.log(SKETCH_REGISTERS / k.zeros));
  return Math.round(raw);
}

/** A sketch from registers (another sketch's, or read back from a summary): sum and zeros recomputed. */
export function sketchFromRegisters(reg: Uint8Array): Sketch {
  const k = createSketch();
  sketchMergeInto(k, reg);
  return k;
}

/** The union of two sketched sets is the register-wise maximum. */
export function sketchMergeInto(k: Sketch, reg: Uint8Array): void {
  for (let i = 0; i < SKETCH_REGISTERS && i < reg.length; i++) {
    const old = k.reg[i];
    const r = reg[i];
    if (r <= old) continue;
    k.reg[i] = r;
    k.sum += 2 ** -r - 2 ** -old;
    if (old === 0) k.zeros--;
  }
}
