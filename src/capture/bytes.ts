/** Unchecked integer reads for framing and decoding; callers check bounds first (cheaper than Buffer's own checks). */
export function u16be(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}
export function u16le(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
export function u32be(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}
export function u32le(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/**
 * The bytes b[from, to) as latin1 text: a Buffer's own slice where b is one (no view object per string); otherwise
 * through a Buffer over the same memory. ArrayBuffer.isView as well: a Proxy of a Buffer (the tests count byte reads
 * with one) passes Buffer.isBuffer, but Buffer's native slice refuses it.
 */
export function latin1(b: Uint8Array, from: number, to: number): string {
  return ArrayBuffer.isView(b) && Buffer.isBuffer(b) ? b.toString('latin1', from, to) : Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
}
