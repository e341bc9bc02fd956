import type { PacketBatch } from './batch';

/**
 * A framer turns the bytes of one capture format into packets of a batch, in place. It is fed a window of the
 * file and consumes whole records only; the reader keeps the unconsumed tail for the next window.
 */
export interface Framer {
  readonly format: string;
  /**
   * Frames records in buf[start, end) into batch, calling flush() whenever the batch is full.
   * Returns the offset of the first byte it did not consume. Sets `error` and stops on a record that cannot be
   * trusted (a length no capture could have): formats without sync markers cannot be re-synchronised.
   */
  frame(buf: Buffer, start: number, end: number, batch: PacketBatch, flush: () => void): number;
  /** Bytes still to be skipped from the next window (large blocks that carry no packets). */
  skipping(): number;
  error: string | null;
  /** Captured bytes of the packets framed so far. */
  bytes: number;
  /** Non-fatal oddities of the file (packets for unknown interfaces, over-long captured lengths clipped). */
  notes: Map<string, number>;
  /**
   * Decode events met while framing (DecodeEvent codes; today only TIMESTAMP_OUT_OF_RANGE). The batch carries no
   * per-packet events and the engine decodes afresh, so they are counted here, per file, and reach the final
   * counters through the FileReport.
   */
  events: Float64Array;
  linktypes: Set<number>;
}

/** libpcap's MAXIMUM_SNAPLEN: no capture tool writes a packet record longer than this. */
export const MAX_CAPLEN = 262144;

/**
 * Largest original length a batch holds (its lengths are Int32Array): the 32-bit field of a damaged record can
 * claim up to 2^32 - 1, which wrapped to a negative length (negative wire_bytes, a snap-length cut not seen).
 */
export const MAX_ORIGLEN = 0x7fffffff;

export function addNote(notes: Map<string, number>, key: string): void {
  notes.set(key, (notes.get(key) ?? 0) + 1);
}
