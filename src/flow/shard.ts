import { u16be, u32be } from '../capture/bytes';
import {
  LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
  LINKTYPE_RAW_BSD_A, LINKTYPE_RAW_BSD_B,
} from '../decode/decode';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, isVlanEthertype } from '../decode/ethernet';
// fmix32 spreads neighbouring addresses evenly over workers.
import { fmix32 } from '../util/hash';


/** What the raw read learned besides the shard: enough to spot DNS responses among other shards' packets. */
export interface RawPeek {
  proto: number;
  srcPort: number;
}

/**
 * Which of `count` workers owns a packet, read from its raw bytes with a handful of loads, so that a worker can
 * pass over the packets of other shards without decoding them. Symmetric (XOR of the two ends), so both
 * directions of a connection land on one worker. IPv4 fragments and IPv6 packets with extension headers hash on
 * addresses only (later fragments carry no ports). Anything not IP, or too short to read, belongs to worker 0,
 * which decodes it and counts whatever is wrong with it.
 */
export function shardOfRaw(b: Uint8Array, off: number, caplen: number, linktype: number, count: number, peek: RawPeek): number {
  peek.proto = 0;
  peek.srcPort = 0;
  if (count <= 1) return 0;
  const end = off + caplen;
  // Fast path for the common case, untagged Ethernet carrying an unfragmented IPv4 TCP/UDP packet: the same
  // result as the general path below, with fewer calls and branches (this runs for every packet on every worker).
  if (linktype === LINKTYPE_ETHERNET && caplen >= 38 && b[off + 12] === 0x08 && b[off + 13] === 0x00 && b[off + 14] >> 4 === 4) {
    const ip = off + 14;
    const proto = b[ip + 9];
    const l4 = ip + (b[ip] & 15) * 4;
    if ((proto === 6 || proto === 17) && ((b[ip + 6] & 0x3f) | b[ip + 7]) === 0 && l4 + 4 <= end) {
      const sp = (b[l4] << 8) | b[l4 + 1];
      const dp = (b[l4 + 2] << 8) | b[l4 + 3];
      const a = ((b[ip + 12] ^ b[ip + 16]) << 24) | ((b[ip + 13] ^ b[ip + 17]) << 16) | ((b[ip + 14] ^ b[ip + 18]) << 8) | (b[ip + 15] ^ b[ip + 19]);
      peek.proto = proto;
      peek.srcPort = sp;
      return fmix32(a ^ ((sp ^ dp) << 8) ^ proto) % count;
    }
  }
  let p: number;
  let type: number; // EtherType of the L3 header, or 4/6 for link types that carry bare IP
  switch (linktype) {
    case LINKTYPE_ETHERNET:
      if (caplen < 14) return 0;
      p = off + 14;
      type = u16be(b, off + 12);
      while (isVlanEthertype(type) && p + 4 <= end) {
        type = u16be(b, p + 2);
        p += 4;
      }
      break;
    case LINKTYPE_LINUX_SLL:
      if (caplen < 16) return 0;
      p = off + 16;
      type = u16be(b, off + 14);
      break;
    case LINKTYPE_LINUX_SLL2:
      if (caplen < 20) return 0;
      p = off + 20;
      type = u16be(b, off);
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      p = off + 4;
      type = 0;
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_RAW_BSD_A:
    case LINKTYPE_RAW_BSD_B:
      p = off;
      type = 0;
      break;
    default:
      return 0;
  }
  if (p >= end) return 0;
  if (type === 0) type = b[p] >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  let h: number;
  let l4: number;
  let proto: number;
  if (type === ETHERTYPE_IPV4) {
    if (p + 20 > end || b[p] >> 4 !== 4) return 0;
    h = (u32be(b, p + 12) ^ u32be(b, p + 16)) >>> 0;
    proto = b[p + 9];
    l4 = (u16be(b, p + 6) & 0x3fff) !== 0 ? -1 : p + (b[p] & 15) * 4;
  } else if (type === ETHERTYPE_IPV6) {
    if (p + 40 > end || b[p] >> 4 !== 6) return 0;
    h = 0;
    for (let i = 8; i < 24; i += 4) h = Math.imul(h ^ u32be(b, p + i) ^ u32be(b, p + i + 16), 0x9e3779b1);
    proto = b[p + 6];
    l4 = p + 40;
  } else {
    return 0;
  }
  if (l4 >= 0 && (proto === 6 || proto === 17) && l4 + 4 <= end) {
    h ^= ((u16be(b, l4) ^ u16be(b, l4 + 2)) << 8) ^ proto;
    peek.proto = proto;
    peek.srcPort = u16be(b, l4);
  }
  return fmix32(h) % count;
}
