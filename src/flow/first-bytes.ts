import { u32be } from '../capture/bytes';
import { TCP_SYN, type DecodedPacket } from '../core/packet';

/**
 * Collects the first bytes a client sends on a TCP connection, for application heads that span segments (a
 * post-quantum ClientHello is larger than one segment; HTTP heads can be too). A stream is opened only when its
 * first segment looks like such a head and is incomplete, so ordinary traffic costs one Map lookup on a number.
 * Segments are placed by sequence number: out-of-order ones wait, retransmitted ones overlap harmlessly.
 * Everything is bounded: streams, bytes per stream, and lifetime in packet time. The stream count is bounded
 * per thread: only under a flood of incomplete heads (more than maxStreams open at once) can the number of
 * workers change which streams are dropped.
 */
export interface FirstBytesLimits {
  maxStreams: number;
  maxBytes: number;
  timeoutSec: number;
}

export const DEFAULT_FIRST_BYTES_LIMITS: FirstBytesLimits = { maxStreams: 4096, maxBytes: 16384, timeoutSec: 30 };

export interface Stream {
  hash: number;
  /** Copied client and server addresses (4 or 16 bytes each) and ports: collisions of the hash are told apart. */
  key: Buffer;
  startSeq: number;
  data: Buffer;
  /** Contiguous bytes from startSeq. */
  have: number;
  /** Segments beyond `have`, waiting for the gap before them. */
  waiting: Array<{ rel: number; bytes: Buffer }>;
  expires: number;
  kind: number;
}

export interface FirstBytesTable {
  streams: Map<number, Stream[]>;
  count: number;
  limits: FirstBytesLimits;
  /** Streams dropped for the bounds (too many open, too many bytes, timed out). */
  evicted: number;
}

export function createFirstBytesTable(limits: FirstBytesLimits = DEFAULT_FIRST_BYTES_LIMITS): FirstBytesTable {
  return { streams: new Map(), count: 0, limits, evicted: 0 };
}

/**
 * A hash of the directed (client -> server) address and port pair; numbers only, no allocation; keys are
 * confirmed against the addresses where a collision would matter (first-bytes streams). `reversed`
 * hashes the packet as if it went the other way (a server's packet, looked up under its client's direction).
 */
export function directedHash(b: Uint8Array, pkt: DecodedPacket, reversed: boolean): number {
  const alen = pkt.ipVersion === 6 ? 16 : 4;
  const from = reversed ? pkt.dstAddrOff : pkt.srcAddrOff;
  const to = reversed ? pkt.srcAddrOff : pkt.dstAddrOff;
  let h = 0x811c9dc5 ^ (reversed ? (pkt.dstPort << 16) | pkt.srcPort : (pkt.srcPort << 16) | pkt.dstPort);
  for (let i = 0; i < alen; i++) h = Math.imul(h ^ b[from + i], 0x01000193);
  for (let i = 0; i < alen; i++) h = Math.imul(h ^ b[to + i], 0x01000193);
  // 30 bits: a V8 small integer, so Sets and Maps keyed by it neither box nor hash a heap number.
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

/**
 * A second 30-bit hash of the same directed ends, computed differently from directedHash (a multiply-and-shift mix
 * of the addresses' words, no byte loop for IPv4): the engine's flow tables keep it beside the key, so that two flows
 * are one entry only if 60 bits agree (util/recent-keys.ts).
 */
export function directedCheck(b: Uint8Array, pkt: DecodedPacket, reversed: boolean): number {
  const ports = reversed ? (pkt.dstPort << 16) | pkt.srcPort : (pkt.srcPort << 16) | pkt.dstPort;
  let c = Math.imul(ports ^ 0x2545f491, 0x9e3779b1);
  if (pkt.ipVersion === 4) {
    c = Math.imul(c ^ (c >>> 15) ^ (reversed ? pkt.dst4 : pkt.src4), 0x85ebca6b);
    c = Math.imul(c ^ (c >>> 13) ^ (reversed ? pkt.src4 : pkt.dst4), 0xc2b2ae35);
  } else {
    const from = reversed ? pkt.dstAddrOff : pkt.srcAddrOff;
    const to = reversed ? pkt.srcAddrOff : pkt.dstAddrOff;
    for (let i = 0; i < 16; i += 4) c = Math.imul(c ^ (c >>> 15) ^ u32be(b, from + i), 0x85ebca6b);
    for (let i = 0; i < 16; i += 4) c = Math.imul(c ^ (c >>> 13) ^ u32be(b, to + i), 0xc2b2ae35);
  }
  c ^= c >>> 16;
  return c & 0x3fffffff;
}

function keyMatches(key: Buffer, b: Uint8Array, pkt: DecodedPacket): boolean {
  const alen = pkt.ipVersion === 6 ? 16 : 4;
  if (key.length !== 2 * alen + 4) return false;
  for (let i = 0; i < alen; i++) if (key[i] !== b[pkt.srcAddrOff + i] || key[alen + i] !== b[pkt.dstAddrOff + i]) return false;
  return key.readUInt16BE(2 * alen) === pkt.srcPort && key.readUInt16BE(2 * alen + 2) === pkt.dstPort;
}

/** The open stream this packet belongs to, if any. */
export function findStream(t: FirstBytesTable, b: Uint8Array, pkt: DecodedPacket, hash: number): Stream | undefined {
  const list = t.streams.get(hash);
  if (list === undefined) return undefined;
  for (const s of list) if (keyMatches(s.key, b, pkt)) return s;
  return undefined;
}

/** Opens a stream with the packet's payload as its first bytes. The oldest stream is closed when the table is full. */
export function openStream(t: FirstBytesTable, b: Uint8Array, pkt: DecodedPacket, hash: number, kind: number, now: number): Stream {
  if (t.count >= t.limits.maxStreams) {
    // The oldest tenth at once (see makeRoom in util/bounded.ts for why not one at a time).
    let n = Math.max(1, Math.floor(t.limits.maxStreams / 10));
    for (const [h, list] of t.streams) {
      if (n-- <= 0) break;
      t.count -= list.length;
      t.evicted += list.length;
      t.streams.delete(h);
    }
  }
  const alen = pkt.ipVersion === 6 ? 16 : 4;
  const key = Buffer.allocUnsafe(2 * alen + 4);
  for (let i = 0; i < alen; i++) {
    key[i] = b[pkt.srcAddrOff + i];
    key[alen + i] = b[pkt.dstAddrOff + i];
  }
  key.writeUInt16BE(pkt.srcPort, 2 * alen);
  key.writeUInt16BE(pkt.dstPort, 2 * alen + 2);
  const n = Math.min(pkt.payloadLen, t.limits.maxBytes);
  const data = Buffer.allocUnsafe(Math.min(t.limits.maxBytes, Math.max(4096, n * 2)));
  data.set(b.subarray(pkt.payloadOff, pkt.payloadOff + n), 0);
  // Data in a SYN (TCP Fast Open, RFC 7413) starts one past the SYN's own sequence number, which the SYN uses up.
  const startSeq = (pkt.tcpSeq + ((pkt.tcpFlags & TCP_SYN) !== 0 ? 1 : 0)) >>> 0;
  const s: Stream = { hash, key, startSeq, data, have: n, waiting: [], expires: now + t.limits.timeoutSec, kind };
  const list = t.streams.get(hash);
  if (list === undefined) t.streams.set(hash, [s]);
  else list.push(s);
  t.count++;
  return s;
}

/**
 * Adds a segment to a stream. Returns true when the contiguous bytes grew (the caller parses again). Bytes past
 * maxBytes are dropped; the caller closes a stream whose head does not complete within them.
 */
export function addSegment(t: FirstBytesTable, s: Stream, b: Uint8Array, pkt: DecodedPacket): boolean {
  const rel = (pkt.tcpSeq - s.startSeq) >>> 0;
  const max = t.limits.maxBytes;
  if (rel >= max || pkt.payloadLen === 0) return false; // far ahead, or before the start (wrapped): not ours
  const end = Math.min(rel + pkt.payloadLen, max);
  if (end <= s.have) return false; // a retransmission of bytes already held
  if (rel > s.have) {
    if (s.waiting.length < 64) s.waiting.push({ rel, bytes: Buffer.from(b.subarray(pkt.payloadOff, pkt.payloadOff + (end - rel))) });
    return false;
  }
  place(s, b.subarray(pkt.payloadOff + (s.have - rel), pkt.payloadOff + (end - rel)), max);
  // Segments that were waiting for this gap now fit.
  for (let moved = true; moved && s.waiting.length > 0;) {
    moved = false;
    for (let i = 0; i < s.waiting.length; i++) {
      const w = s.waiting[i];
      if (w.rel <= s.have) {
        const wEnd = w.rel + w.bytes.length;
        if (wEnd > s.have) place(s, w.bytes.subarray(s.have - w.rel), max);
        s.waiting.splice(i, 1);
        moved = true;
        break;
      }
    }
  }
  return true;
}

function place(s: Stream, bytes: Uint8Array, max: number): void {
  const need = Math.min(max, s.have + bytes.length);
  if (need > s.data.length) {
    const grown = Buffer.allocUnsafe(Math.min(max, Math.max(need, s.data.length * 2)));
    s.data.copy(grown, 0, 0, s.have);
    s.data = grown;
  }
  const n = need - s.have;
  s.data.set(bytes.subarray(0, n), s.have);
  s.have = need;
}

export function closeStream(t: FirstBytesTable, s: Stream): void {
  const list = t.streams.get(s.hash);
  if (list === undefined) return;
  const i = list.indexOf(s);
  if (i < 0) return;
  list.splice(i, 1);
  if (list.length === 0) t.streams.delete(s.hash);
  t.count--;
}

/** Closes streams whose time ran out; called now and then with packet time. */
export function expireStreams(t: FirstBytesTable, now: number): void {
  for (const [hash, list] of t.streams) {
    const keep = list.filter((s) => s.expires > now);
    if (keep.length === list.length) continue;
    t.evicted += list.length - keep.length;
    t.count -= list.length - keep.length;
    if (keep.length === 0) t.streams.delete(hash);
    else t.streams.set(hash, keep);
  }
}
