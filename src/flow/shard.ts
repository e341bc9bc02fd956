import type { DecodedPacket } from '../core/packet';
import { IPPROTO_TCP, IPPROTO_UDP } from '../core/packet';
import { SHARD_BYTE_UNKNOWN } from '../capture/batch';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, isVlanEthertype } from '../decode/ethernet';
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
  let h = pkt.ipVersion === 4 ? (pkt.src4 ^ pkt.dst4) >>> 0 : ipv6PairHash(b, pkt.srcAddrOff, pkt.dstAddrOff);
  if (pkt.fragment === 0 && (pkt.proto === IPPROTO_TCP || pkt.proto === IPPROTO_UDP)) h ^= portsMix(pkt.srcPort, pkt.dstPort, pkt.proto);
  return fmix32(h) % count;
}

/** The two IPv6 addresses' share of a shard, symmetric: the XOR of the ends, 4 bytes at a time. */
function ipv6PairHash(b: Uint8Array, s: number, d: number): number {
  let h = 0;
  for (let i = 0; i < 16; i += 4) {
    const x = ((b[s + i] ^ b[d + i]) << 24) | ((b[s + i + 1] ^ b[d + i + 1]) << 16) | ((b[s + i + 2] ^ b[d + i + 2]) << 8) | (b[s + i + 3] ^ b[d + i + 3]);
    h = Math.imul(h ^ x, 0x9e3779b1);
  }
  return h;
}

/** The ports' share of a TCP or UDP packet's shard (symmetric, as the addresses' XOR is). */
function portsMix(srcPort: number, dstPort: number, proto: number): number {
  return ((srcPort ^ dstPort) << 8) ^ proto;
}

/** Bits of shardOfFrame's `foreign` table (engine/frame-shard.ts): the port is a TCP or UDP packet's source or destination. */
export const FOREIGN_FROM_TCP = 1;
export const FOREIGN_FROM_UDP = 2;
export const FOREIGN_TO_TCP = 4;
export const FOREIGN_TO_UDP = 8;

/** VLAN tags read past: the bench mix's tagged traffic has one (802.1Q) or two (QinQ); the decoder takes up to 4. */
const MAX_FRAME_TAGS = 2;

/**
 * shardOfPacket's answer read straight from the frame, for the common packet only: Ethernet with at most two VLAN
 * tags, IPv4 without fragmentation or IPv6 without extension headers, TCP or UDP with a whole header, ICMP and (for
 * IPv4) other non-tunnel transports. A worker skips another's packets without decoding them. Anything else, and
 * every packet whose answer could depend on what the decoder does further in (a UDP tunnel port, GRE, a truncated or
 * inconsistent header), is SHARD_BYTE_UNKNOWN (decode it and ask shardOfPacket), so the two cannot disagree:
 * test/property.test.ts checks it on built packets, every bundled capture and damaged frames. Packets every thread
 * reads (`foreign`, by source and destination port: foreign DNS answers) are SHARD_BYTE_UNKNOWN too.
 */
export function shardOfFrame(
  b: Uint8Array, off: number, caplen: number, linktype: number, count: number, tunnelPortMin: number, tunnelPortMax: number, foreign: Uint8Array,
): number {
  if (linktype !== 1 || caplen < 34) return SHARD_BYTE_UNKNOWN;
  const end = off + caplen;
  let p = off + 12;
  let type = (b[p] << 8) | b[p + 1];
  for (let tags = 0; isVlanEthertype(type); tags++) {
    if (tags === MAX_FRAME_TAGS || end - p < 6) return SHARD_BYTE_UNKNOWN;
    p += 4;
    type = (b[p] << 8) | b[p + 1];
  }
  p += 2;
  if (type === ETHERTYPE_IPV4) return shardOfIpv4Frame(b, p, end, count, tunnelPortMin, tunnelPortMax, foreign);
  if (type === ETHERTYPE_IPV6) return shardOfIpv6Frame(b, p, end, count, tunnelPortMin, tunnelPortMax, foreign);
  return SHARD_BYTE_UNKNOWN;
}

function shardOfIpv4Frame(b: Uint8Array, p: number, end: number, count: number, tunnelPortMin: number, tunnelPortMax: number, foreign: Uint8Array): number {
  if (end - p < 20) return SHARD_BYTE_UNKNOWN;
  const vihl = b[p];
  if (vihl >> 4 !== 4) return SHARD_BYTE_UNKNOWN;
  const ihl = (vihl & 15) * 4;
  const total = (b[p + 2] << 8) | b[p + 3];
  if (ihl < 20 || total < ihl || ((b[p + 6] & 0x3f) | b[p + 7]) !== 0) return SHARD_BYTE_UNKNOWN;
  const ipEnd = p + total < end ? p + total : end;
  const l4 = p + ihl;
  const proto = b[p + 9];
  const h = ((((b[p + 12] ^ b[p + 16]) << 24) | ((b[p + 13] ^ b[p + 17]) << 16) | ((b[p + 14] ^ b[p + 18]) << 8) | (b[p + 15] ^ b[p + 19])) >>> 0);
  if (proto === 6 || proto === 17) return shardOfPorts(b, h, l4, ipEnd, proto, count, tunnelPortMin, tunnelPortMax, foreign);
  if (proto === 47 || l4 > end) return SHARD_BYTE_UNKNOWN;
  return fmix32(h) % count;
}

function shardOfIpv6Frame(b: Uint8Array, p: number, end: number, count: number, tunnelPortMin: number, tunnelPortMax: number, foreign: Uint8Array): number {
  if (end - p < 40 || b[p] >> 4 !== 6) return SHARD_BYTE_UNKNOWN;
  const plen = (b[p + 4] << 8) | b[p + 5];
  // A payload length of 0 (a jumbogram, or a lie) is left to the decoder.
  if (plen === 0) return SHARD_BYTE_UNKNOWN;
  const ipEnd = p + 40 + plen < end ? p + 40 + plen : end;
  const next = b[p + 6];
  const h = ipv6PairHash(b, p + 8, p + 24);
  if (next === 6 || next === 17) return shardOfPorts(b, h, p + 40, ipEnd, next, count, tunnelPortMin, tunnelPortMax, foreign);
  // ICMPv6 only: any other next header may be an extension header the decoder walks past.
  if (next !== 58) return SHARD_BYTE_UNKNOWN;
  return fmix32(h) % count;
}

/** A TCP or UDP packet's shard from its ports, or SHARD_BYTE_UNKNOWN (header cut, a tunnel port, a port every thread reads). */
function shardOfPorts(
  b: Uint8Array, h: number, l4: number, ipEnd: number, proto: number, count: number, tunnelPortMin: number, tunnelPortMax: number, foreign: Uint8Array,
): number {
  if (ipEnd - l4 < (proto === 6 ? 20 : 8)) return SHARD_BYTE_UNKNOWN;
  const sp = (b[l4] << 8) | b[l4 + 1];
  const dp = (b[l4 + 2] << 8) | b[l4 + 3];
  const tcp = proto === 6;
  if ((foreign[sp] & (tcp ? FOREIGN_FROM_TCP : FOREIGN_FROM_UDP)) !== 0 || (foreign[dp] & (tcp ? FOREIGN_TO_TCP : FOREIGN_TO_UDP)) !== 0) return SHARD_BYTE_UNKNOWN;
  if (!tcp && dp >= tunnelPortMin && dp <= tunnelPortMax) return SHARD_BYTE_UNKNOWN;
  return fmix32(h ^ portsMix(sp, dp, proto)) % count;
}
