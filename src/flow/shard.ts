import type { DecodedPacket } from '../decode/packet';

/**
 * Which of `count` workers owns a packet: a hash that is the same for both directions of a connection (XOR of
 * the endpoints), so per-flow state needs no locks. Fragments hash on addresses only, since later fragments have
 * no ports; non-IP and undecodable packets belong to worker 0 so that they are counted once.
 */
export function shardOf(b: Uint8Array, pkt: DecodedPacket, count: number): number {
  if (count <= 1 || pkt.ipVersion === 0) return 0;
  let h: number;
  if (pkt.ipVersion === 4) {
    h = (pkt.src4 ^ pkt.dst4) >>> 0;
  } else {
    h = 0;
    for (let i = 0; i < 16; i += 4) {
      const s = (b[pkt.srcAddrOff + i] << 24) | (b[pkt.srcAddrOff + i + 1] << 16) | (b[pkt.srcAddrOff + i + 2] << 8) | b[pkt.srcAddrOff + i + 3];
      const d = (b[pkt.dstAddrOff + i] << 24) | (b[pkt.dstAddrOff + i + 1] << 16) | (b[pkt.dstAddrOff + i + 2] << 8) | b[pkt.dstAddrOff + i + 3];
      h = Math.imul(h ^ s ^ d, 0x9e3779b1);
    }
  }
  if (pkt.fragment === 0) h ^= ((pkt.srcPort ^ pkt.dstPort) << 8) ^ pkt.proto;
  // Final avalanche (murmur3 fmix32) so that neighbouring addresses spread over workers.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % count;
}
