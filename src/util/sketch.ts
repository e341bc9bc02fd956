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

/** FNV-1a over the UTF-16 code units, then a finaliser so that the low and high bits are both well mixed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Adds a key; true when a register changed (only then can the count have changed). */
export function sketchAdd(k: Sketch, key: string): boolean {
  const h = hashString(key);
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
