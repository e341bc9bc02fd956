/**
 * A batch of packets laid out in one shared buffer: the unit that every source produces and every later stage
 * consumes, the same for live capture and replay. Per-packet facts live in typed arrays so the hot loop touches
 * no objects; packet i's bytes are data[offset[i] .. offset[i] + caplen[i]).
 */
export interface PacketBatch {
  data: Buffer;
  count: number;
  offset: Int32Array;
  caplen: Int32Array;
  origlen: Int32Array;
  /** Whole seconds since the epoch (exact in a double), within [0, MAX_TS_SEC]: the framers see to it. */
  tsSec: Float64Array;
  tsNsec: Uint32Array;
  linktype: Uint16Array;
  /** Ordinal of packet 0 in the whole input (all files of a replay): a total order that does not depend on threads. */
  firstOrdinal: number;
  /**
   * Replay with workers: the worker that owns each packet as the reading thread found it from the headers
   * (shardOfFrame), SHARD_BYTE_UNKNOWN where only the decoder can tell. Absent: each worker finds out itself.
   */
  shard?: Uint8Array;
}

export const SHARD_BYTE_UNKNOWN = 255;

export const BATCH_MAX_PACKETS = 32768;

/**
 * 9999-12-31T23:59:59Z: the last second RFC 3339 can write (four-digit years). A packet time outside
 * [0, MAX_TS_SEC] is a damaged record, not a time: the framers replace it and count it (TIMESTAMP_OUT_OF_RANGE).
 */
export const MAX_TS_SEC = 253402300799;

/** Packets [from, to) of a batch as a batch of their own: views of its arrays, nothing copied. */
export function batchSlice(b: PacketBatch, from: number, to: number): PacketBatch {
  return {
    data: b.data, count: to - from, offset: b.offset.subarray(from), caplen: b.caplen.subarray(from), origlen: b.origlen.subarray(from),
    tsSec: b.tsSec.subarray(from), tsNsec: b.tsNsec.subarray(from), linktype: b.linktype.subarray(from), firstOrdinal: b.firstOrdinal + from,
    ...(b.shard !== undefined ? { shard: b.shard.subarray(from) } : {}),
  };
}

export function createPacketBatch(data: Buffer, capacity = BATCH_MAX_PACKETS): PacketBatch {
  return {
    data,
    count: 0,
    offset: new Int32Array(capacity),
    caplen: new Int32Array(capacity),
    origlen: new Int32Array(capacity),
    tsSec: new Float64Array(capacity),
    tsNsec: new Uint32Array(capacity),
    linktype: new Uint16Array(capacity),
    firstOrdinal: 0,
  };
}
