import type { DecodedPacket } from '../core/packet';
import { IPPROTO_TCP, IPPROTO_UDP } from '../core/packet';
import { SHARD_BYTE_UNKNOWN } from '../capture/batch';
// fmix32 spreads neighbouring addresses evenly over workers.
import { fmix32 } from '../util/hash';

/**
 * Which of `count` workers owns a decoded packet. It reads the decoder's own results (addresses, transport, ports),
 * so a packet's shard and the flow the engine files it under can never disagree, whatever is odd about its
 * headers (an IP length that cuts the transport header, IPv6 extension headers on some packets of a flow).
 * Symmetric (XOR of the two ends), so both directions of a connection land on one worker. Fragments hash on
 * addresses only (later fragments carry no ports); anything not IP belongs to worker 0, which counts whatever is
 * wrong with it.
 */
export function shardOfPacket(b: Uint8Array, pkt: DecodedPacket, count: number): number {
  if (count <= 1 || pkt.ipVersion === 0) return 0;
  let h: number;
  if (pkt.ipVersion === 4) {
    h = (pkt.src4 ^ pkt.dst4) >>> 0;
  } else {
    h = 0;
    const s = pkt.srcAddrOff;
    const d = pkt.dstAddrOff;
    for (let i = 0; i < 16; i += 4) {
      const x = ((b[s + i] ^ b[d + i]) << 24) | ((b[s + i + 1] ^ b[d + i + 1]) << 16) | ((b[s + i + 2] ^ b[d + i + 2]) << 8) | (b[s + i + 3] ^ b[d + i + 3]);
      h = Math.imul(h ^ x, 0x9e3779b1);
    }
  }
  if (pkt.fragment === 0 && (pkt.proto === IPPROTO_TCP || pkt.proto === IPPROTO_UDP)) h ^= portsMix(pkt.srcPort, pkt.dstPort, pkt.proto);
  return fmix32(h) % count;
}

/** The ports' share of a TCP or UDP packet's shard (symmetric, as the addresses' XOR is). */
function portsMix(srcPort: number, dstPort: number, proto: number): number {
  return ((srcPort ^ dstPort) << 8) ^ proto;
}

/**
 * shardOfPacket's answer read straight from the frame, for the common packet only (untagged Ethernet, IPv4 without
 * fragmentation, TCP or UDP with a whole header, ICMP and other non-tunnel transports): a worker skips another's
 * packets without decoding them. Anything else, and every packet whose answer could depend on what the decoder
 * does further in (a UDP tunnel port, GRE, a truncated or inconsistent header), is SHARD_BYTE_UNKNOWN (decode it and
 * ask shardOfPacket), so the two cannot disagree: test/property.test.ts checks it on built packets, every bundled
 * capture and damaged frames. mustDecode flags ports (bit 1 TCP, bit 2 UDP) whose packets every thread reads
 * (foreign DNS answers): those are SHARD_BYTE_UNKNOWN too.
 */
export function shardOfFrame(
  b: Uint8Array, off: number, caplen: number, linktype: number, count: number, tunnelPortMin: number, tunnelPortMax: number, mustDecode: Uint8Array,
): number {
  if (linktype !== 1 || caplen < 34 || b[off + 12] !== 0x08 || b[off + 13] !== 0x00) return SHARD_BYTE_UNKNOWN;
  const p = off + 14;
  const vihl = b[p];
  if (vihl >> 4 !== 4) return SHARD_BYTE_UNKNOWN;
  const ihl = (vihl & 15) * 4;
  const total = (b[p + 2] << 8) | b[p + 3];
  if (ihl < 20 || total < ihl || ((b[p + 6] & 0x3f) | b[p + 7]) !== 0) return SHARD_BYTE_UNKNOWN;
  const end = off + caplen;
  const ipEnd = p + total < end ? p + total : end;
  const l4 = p + ihl;
  const proto = b[p + 9];
  let h = ((((b[p + 12] ^ b[p + 16]) << 24) | ((b[p + 13] ^ b[p + 17]) << 16) | ((b[p + 14] ^ b[p + 18]) << 8) | (b[p + 15] ^ b[p + 19])) >>> 0);
  if (proto === 6 || proto === 17) {
    if (ipEnd - l4 < (proto === 6 ? 20 : 8)) return SHARD_BYTE_UNKNOWN;
    const sp = (b[l4] << 8) | b[l4 + 1];
    const dp = (b[l4 + 2] << 8) | b[l4 + 3];
    const bit = proto === 6 ? 1 : 2;
    if ((mustDecode[sp] & bit) !== 0 || (mustDecode[dp] & bit) !== 0) return SHARD_BYTE_UNKNOWN;
    if (proto === 17 && dp >= tunnelPortMin && dp <= tunnelPortMax) return SHARD_BYTE_UNKNOWN;
    h ^= portsMix(sp, dp, proto);
  } else if (proto === 47 || l4 > end) {
    return SHARD_BYTE_UNKNOWN;
  }
  return fmix32(h) % count;
}
